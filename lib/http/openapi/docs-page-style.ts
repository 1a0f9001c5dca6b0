// The reference page's style sheet (inline, allowed by its hash).

export const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #888; --accent: #2563eb; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 16rem 1fr; }
header { grid-column: 1 / 3; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
nav { padding: 1rem; border-right: 1px solid var(--line); position: sticky; top: 0; align-self: start;
  max-height: 100vh; overflow: auto; font-size: .9rem; }
nav h2 { font-size: .8rem; text-transform: uppercase; color: var(--muted); margin: 1rem 0 .25rem; }
nav a { display: block; color: inherit; text-decoration: none; padding: .1rem 0; }
nav a:hover { color: var(--accent); }
main { padding: 1rem 1.5rem; min-width: 0; }
.prose { white-space: pre-line; }
code, pre, textarea, input { font: 13px/1.4 ui-monospace, monospace; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; }
details.op > summary { cursor: pointer; padding: .5rem .75rem; display: flex; gap: .75rem; align-items: baseline; }
details.op > div { padding: 0 .75rem .75rem; }
.method { font-weight: 700; min-width: 4rem; }
.get { color: #16a34a; } .post { color: #2563eb; } .delete { color: #dc2626; } .put, .patch { color: #d97706; }
.scope { margin-left: auto; font-size: .8rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .25rem 0; }
td, th { text-align: left; vertical-align: top; padding: .2rem .5rem; border-top: 1px solid var(--line); }
th { font-size: .8rem; color: var(--muted); font-weight: 600; }
.req { color: #dc2626; }
.note { color: var(--muted); font-size: .85rem; }
.status { font-weight: 700; margin-right: .5rem; }
form.try { border-top: 1px dashed var(--line); margin-top: .75rem; padding-top: .5rem; display: grid; gap: .4rem; }
form.try label { display: grid; grid-template-columns: 12rem 1fr; gap: .5rem; align-items: center; }
textarea { width: 100%; box-sizing: border-box; }
pre.out { padding: .5rem; border-radius: 4px; border: 1px solid var(--line); overflow: auto; max-height: 30rem; }
pre.ok { border-color: #16a34a; } pre.bad { border-color: #dc2626; }
#token { width: 28rem; max-width: 100%; }
`;
