import { parseArgs } from 'node:util';
import { API_KEY_SCOPES } from '#lib/domain/api-key.ts';
import { apiToken, CliError, exitCodeFor, serverUrl, tokenRefused, UsageError } from './cli-support.ts';

const USAGE = `Usage: npm run keys -- <create|list|revoke> [options]

  create --name <name> --scopes <${API_KEY_SCOPES.join(',')}> [--agent-name <person>]
                    creates a key and prints its token once
  list              lists the keys (never their tokens)
  revoke <id>       revokes a key; requests with it get 401 from then on

  --url <base>      where Switchboard runs (default http://localhost:$PORT or 3000)

Talks to the running Switchboard (npm start) over HTTP, authenticated with AGENT_API_TOKEN
from the environment, else from the dev secrets in the data dir (SWITCHBOARD_DATA_DIR).`;

type Command =
  | { kind: 'create'; name: string; scopes: string[]; agentName: string | undefined }
  | { kind: 'list' }
  | { kind: 'revoke'; id: string }
  | { kind: 'help' };

function parseCommand(argv: readonly string[]): { command: Command; url: string | undefined } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [verb, ...rest] = positionals;
  if (values.help) return { command: { kind: 'help' }, url: values.url };
  const extra = (allowed: number) => {
    if (rest.length > allowed) throw new UsageError(`Unexpected argument "${rest[allowed]}"`);
  };
  switch (verb) {
    case 'create': {
      extra(0);
      if (!values.name?.trim()) throw new UsageError('create needs --name');
      if (!values.scopes?.trim()) throw new UsageError('create needs --scopes, e.g. --scopes read,reply');
      const scopes = values.scopes
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean);
      return {
        command: { kind: 'create', name: values.name, scopes, agentName: values['agent-name'] },
        url: values.url,
      };
    }
    case 'list':
      extra(0);
      return { command: { kind: 'list' }, url: values.url };
    case 'revoke':
      extra(1);
      if (!rest[0]) throw new UsageError('revoke needs the key id, e.g. npm run keys -- revoke key_…');
      return { command: { kind: 'revoke', id: rest[0] }, url: values.url };
    default:
      throw new UsageError(verb === undefined ? 'A command is required' : `Unknown command "${verb}"`);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'agent-name': { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Client = (method: string, path: string, body?: unknown) => Promise<Response>;

function client(base: string, token: string, env: NodeJS.ProcessEnv): Client {
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new CliError(
        `Nothing answers at ${base}: is Switchboard running (npm start)? Pass --url or set PORT.`,
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    let detail = text;
    try {
      const { error } = JSON.parse(text) as { error: { message: string; details?: unknown } };
      detail = `${error.message}${error.details === undefined ? '' : ` ${JSON.stringify(error.details)}`}`;
    } catch {
      // Not our JSON error body (another server on that port?): show it as it came.
    }
    if (response.status === 401) throw tokenRefused(base, env);
    throw new CliError(`${method} ${path} -> ${response.status}: ${detail}`);
  };
}

type KeyView = {
  id: string;
  name: string;
  scopes: string[];
  agentName: string | null;
  agentId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

/** The person a key signs as: their name as listed now, and the id that signs (none on a key made before stop 26). */
function agentOf(key: KeyView): string {
  return key.agentId ? `${key.agentName} (${key.agentId})` : `${key.agentName}`;
}

async function run(command: Exclude<Command, { kind: 'help' }>, api: Client): Promise<string[]> {
  switch (command.kind) {
    case 'create': {
      const response = await api('POST', '/api/admin/keys', {
        name: command.name,
        scopes: command.scopes,
        ...(command.agentName === undefined ? {} : { agentName: command.agentName }),
      });
      const key = (await response.json()) as KeyView & { token: string };
      return [
        `Created key ${key.id} "${key.name}" (scopes ${key.scopes.join(',')}${key.agentName ? `, replies signed by ${agentOf(key)}` : ''})`,
        '',
        `  ${key.token}`,
        '',
        'Store this token now (a secret manager, the tool’s settings): it is shown only once and',
        'Switchboard keeps only its hash. Use it as "Authorization: Bearer <token>".',
      ];
    }
    case 'list': {
      const items: KeyView[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = (await (await api('GET', `/api/admin/keys?limit=500${query}`)).json()) as {
          items: KeyView[];
          nextCursor?: string | null;
        };
        items.push(...page.items);
        cursor = page.nextCursor ?? null;
      } while (cursor);
      if (items.length === 0) return ['No keys yet: npm run keys -- create --name <name> --scopes read'];
      return items.map((key) =>
        [
          key.id,
          key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
          `"${key.name}"`,
          key.scopes.join(','),
          key.agentName ? `agent ${agentOf(key)}` : 'no agent',
          `created ${key.createdAt}`,
          key.lastUsedAt ? `last used ${key.lastUsedAt}` : 'never used',
        ].join('  '),
      );
    }
    case 'revoke':
      await api('DELETE', `/api/admin/keys/${encodeURIComponent(command.id)}`);
      return [`Revoked ${command.id}: requests with its token now get 401.`];
  }
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const { command, url } = parseCommand(argv);
    if (command.kind === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const base = serverUrl(url, env);
    const lines = await run(command, client(base, await apiToken(env), env));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    return exitCodeFor(error, USAGE);
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
