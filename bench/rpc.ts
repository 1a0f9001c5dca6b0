import { type ChildProcess, fork } from 'node:child_process';

type Call = { id: number; method: string; args: unknown[] };
type Reply = { id: number; result?: unknown; error?: string };

/** A bench process on the other core: the server under load, or a floor issuing SDK calls. */
export type BenchChild = {
  pid: number;
  call<T>(method: string, ...args: unknown[]): Promise<T>;
  stop(): Promise<void>;
};

/** Forks bench/child.ts in `role` and waits until it answers `ready`. */
export async function startChild(role: string, env: Record<string, string> = {}): Promise<BenchChild> {
  const child: ChildProcess = fork(new URL('./child.ts', import.meta.url), [role], {
    execArgv: [],
    env: { ...process.env, ...env },
    // The servers log every request as on Lambda; the bench does not read it.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`${role}: ${message.error}`));
    else waiter?.resolve(message.result);
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${role} exited (${code})`));
    pending.clear();
  });
  const call = <T>(method: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, method, args } satisfies Call);
    });
  await call('ready');
  return {
    pid: child.pid as number,
    call,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The child's side: answers each call with `handlers[method](...args)`. */
export function serveCalls(handlers: Record<string, (...args: never[]) => unknown>): void {
  process.on('message', async (message: Call) => {
    const handler = handlers[message.method];
    try {
      if (!handler) throw new Error(`no method ${message.method}`);
      const result = await (handler as (...args: unknown[]) => unknown)(...message.args);
      process.send?.({ id: message.id, result: result ?? null } satisfies Reply);
    } catch (error) {
      process.send?.({ id: message.id, error: (error as Error).stack ?? String(error) } satisfies Reply);
    }
  });
}
