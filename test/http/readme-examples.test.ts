import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#lib/local/paths.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

type Curl = { line: string; method: string; path: string; headers: Record<string, string>; body?: string };

/** The README's "Build your agents' tool" commands, one a line, continuations joined. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf("## Build your agents' tool"));
  const block = section.slice(
    section.indexOf('```sh\n') + 6,
    section.indexOf('\n```', section.indexOf('```sh')),
  );
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * One command's shell words, as sh splits them: quotes removed, `$NAME` and `${NAME}` replaced
 * from `vars` (not inside single quotes), and a command substitution `$(…)` by a fresh unique
 * string (the README uses one for each Idempotency-Key).
 */
function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (c === '$' && line[i + 1] === '(') {
      i = line.indexOf(')', i);
      word = (word ?? '') + randomUUID();
      continue;
    }
    const variable = /^\$\{?([A-Z_][A-Z0-9_]*)\}?/.exec(line.slice(i));
    if (variable?.[1]) {
      const value = vars[variable[1]];
      if (value === undefined) throw new Error(`README uses $${variable[1]}, which nothing defined: ${line}`);
      word = (word ?? '') + value;
      i += variable[0].length - 1;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === ' ') {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? '') + c;
  }
  if (quote) throw new Error(`unbalanced quote: ${line}`);
  if (word !== null) words.push(word);
  return words;
}

/** What curl would send for these words (the options the README uses: -s, -X, -H, -d). */
function curl(line: string, vars: Record<string, string>): Curl {
  const words = shellWords(line, vars);
  expect(words[0], line).toBe('curl');
  const request: Curl = { line, method: 'GET', path: '', headers: {} };
  for (let i = 1; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-s') continue;
    else if (word === '-X') request.method = words[++i] ?? '';
    else if (word === '-H') {
      const [name, ...value] = (words[++i] ?? '').split(':');
      request.headers[(name ?? '').trim().toLowerCase()] = value.join(':').trim();
    } else if (word === '-d') {
      request.body = words[++i] ?? '';
      if (request.method === 'GET') request.method = 'POST';
    } else if (word.startsWith('BASE/')) request.path = word.slice('BASE'.length);
    else throw new Error(`an option this test does not know (${word}): ${line}`);
  }
  return request;
}

// Found by a review of the first hour at stop 31: the examples used $KEY, which no line set (the
// key's answer calls it "token"), uuidgen, which many Linux machines lack, and none assigned.
describe("README's agents' tool examples", () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('should each answer as the README says when pasted in order, one customer waiting', async () => {
    // Prepare: one customer waiting, acknowledged; the README's own names for what it created
    await sb.postSms({ From: '+48601000310', Body: 'Gdzie jest moja paczka?' });
    await sb.drain();
    const conversationId = (await sb.onlyOpenConversation()).id;
    const commands = readmeCommands();
    const [assignments, ...rest] = commands;
    expect(assignments).toMatch(/^BASE=http:\/\/localhost:3000; TOKEN=…/);
    const vars: Record<string, string> = { BASE: 'BASE', TOKEN: TEST_API_TOKEN };

    // Act: each command, the ids it shows as conv_… and wh_… being the ones created
    const answers: Array<{ request: Curl; status: number; body: Record<string, unknown> }> = [];
    for (const line of rest) {
      if (/^KEY=/.test(line)) continue;
      const webhook = answers.find((a) => a.request.path === '/api/webhooks')?.body.id as string | undefined;
      const concrete = line.replaceAll('conv_…', conversationId).replaceAll('wh_…', webhook ?? 'wh_…');
      const request = curl(concrete, vars);
      const response = await sb.runtime.app.request(request.path, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      answers.push({ request, status: response.status, body });
      // The key the first command creates is what the others use as $KEY (its "token")
      if (request.path === '/api/admin/keys') vars.KEY = body.token as string;
    }

    // Assess: every one answered 2xx, and the README sets KEY from the key's "token"
    expect(answers.filter((a) => a.status >= 300).map((a) => `${a.status} ${a.request.line}`)).toEqual([]);
    expect(commands.some((line) => /^KEY=sbk_… +# .*"token"/.test(line))).toBe(true);
    const paths = answers.map((a) => `${a.request.method} ${a.request.path.split('?')[0]}`);
    expect(paths).toContain(`POST /api/conversations/${conversationId}/assign`);
    const conversation = await (await sb.api(`/api/conversations/${conversationId}`)).json();
    expect(conversation.conversation).toMatchObject({ status: 'resolved', assignee: 'anna' });
  });

  // Found by the same review: the types lacked the conversation's assignee and a message's
  // delivery, fullText and template, which the API answers.
  it("should name in the README's types every field the OpenAPI document gives a conversation and a message", async () => {
    // Prepare: the README's ts block of the API's types
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('```ts\nConversation = {');
    const types = readme.slice(start, readme.indexOf('\n```', start));
    const conversation = types.slice(0, types.indexOf('\nMessage = {'));
    const message = types.slice(types.indexOf('\nMessage = {'));

    // Act
    const openapi = (await (await sb.runtime.app.request('/api/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const missing = (block: string, schema: string) =>
      Object.keys(openapi.components.schemas[schema]?.properties ?? {}).filter(
        (name) => !new RegExp(`[{ ,]${name}\\??(:|,| }| /\\*)`).test(block),
      );

    // Assess
    expect(start).toBeGreaterThan(0);
    expect(missing(conversation, 'Conversation')).toEqual([]);
    expect(missing(message, 'Message')).toEqual([]);
  });
});
