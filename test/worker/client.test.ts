/**
 * Both sides of the worker boundary under Node: the page's WorkerClient talking to a WorkerSession through a
 * stand-in for the browser's Worker (messages cloned and delivered later, as postMessage does). A request
 * resolves to its reply's type from the protocol's table, streams its tokens, and rejects with the worker's
 * error; a reply of the wrong type is refused in one place, the client.
 */
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { useNodeBackend } from '../../cli/backend';
import { readCheckpoint } from '../../src/engine/io/checkpoint';
import { WorkerClient, WorkerError } from '../../src/worker/client';
import type { AskType, Event, EventOf, Request } from '../../src/worker/protocol';
import { MessagePump } from '../../src/worker/session/pump';
import { WorkerSession } from '../../src/worker/session/WorkerSession';
import { TEXT, TINY } from './harness';

/** Delivered on a later task, cloned, buffers moved: what a message between page and worker goes through. */
function deliver<T>(data: T, transfer: Transferable[], to: (data: T) => void): void {
  const copy = structuredClone(data, { transfer: transfer as StructuredSerializeOptions['transfer'] });
  setTimeout(() => to(copy), 0);
}

const sessions: WorkerSession[] = [];

/** The browser's Worker, running the training worker's session in this thread. */
class SessionWorker {
  onmessage: ((m: { data: Event }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  private readonly pump: MessagePump;

  constructor(url: URL) {
    expect(url.pathname).toMatch(/\/training\.worker\.ts$/);
    const post = (e: Event, transfer: Transferable[] = []) => deliver(e, transfer, (data) => this.onmessage?.({ data }));
    const session = new WorkerSession({
      post,
      chooseBackend: async () => {
        await useNodeBackend('wasm');
        const probe = { available: true, hardware: false, detail: 'Node' };
        return { name: 'wasm', forced: true, reason: 'Node tests', probes: { webgpu: probe, webgl: probe, wasm: probe, cpu: probe } };
      },
    });
    sessions.push(session);
    this.pump = new MessagePump(session, post);
  }

  postMessage(req: Request, transfer: Transferable[] = []): void {
    deliver(req, transfer, (r) => this.pump.receive(r));
  }

  terminate(): void {}
}

afterEach(() => {
  vi.unstubAllGlobals();
  for (const s of sessions.splice(0)) s.dispose();
});

/** A started client with a model, and the events it routed to the page. */
async function started(): Promise<{ client: WorkerClient; events: Event[] }> {
  vi.stubGlobal('Worker', SessionWorker);
  const events: Event[] = [];
  let modelReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (modelReady = resolve));
  const client = new WorkerClient(
    (e) => {
      events.push(e);
      if (e.type === 'tokenizerInfo' && e.info) modelReady();
    },
    (message) => {
      throw new Error(`crashed: ${message}`);
    },
  );
  client.start('wasm');
  client.send({ type: 'setCorpus', name: 'verse', text: TEXT });
  client.send({ type: 'createModel', config: TINY, seed: 1, tokenizer: { kind: 'char' } });
  await ready;
  return { client, events };
}

describe('the worker client and session', () => {
  it('request("export") resolves to the file event, typed by the protocol', async () => {
    const { client, events } = await started();
    expect(events[0]).toMatchObject({ type: 'ready', backend: { name: 'wasm' } });
    const reply = client.request('export', { from: 'model', meta: { note: 'test' } });
    expectTypeOf(reply).resolves.toEqualTypeOf<EventOf<'file'>>();
    const file = await reply;
    expect(file.type).toBe('file');
    expect(readCheckpoint(new Uint8Array(file.bytes)).config).toMatchObject(TINY);
    // Every answered request's reply, as the type checker sees it (no request made).
    type ReplyTo<T extends AskType> = Awaited<ReturnType<typeof client.request<T>>>;
    expectTypeOf<ReplyTo<'saveSession'>>().toEqualTypeOf<EventOf<'file'>>();
    expectTypeOf<ReplyTo<'import'>>().toEqualTypeOf<EventOf<'done'>>();
    expectTypeOf<ReplyTo<'loadSession'>>().toEqualTypeOf<EventOf<'done'>>();
    expectTypeOf<ReplyTo<'attention'>>().toEqualTypeOf<EventOf<'attentionMaps'>>();
  });

  it('a sample streams its tokens before it resolves to the whole reply', async () => {
    const { client } = await started();
    const tokens: string[] = [];
    const done = await client.request(
      'sample',
      { prompt: 'Call', chat: false, settings: { maxNewTokens: 10, temperature: 1, topK: 0, topP: 1, seed: 4 }, from: 'model' },
      { onToken: (t) => tokens.push(t) },
    );
    expectTypeOf(done).toEqualTypeOf<EventOf<'sampleDone'>>();
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.join('')).toBe(done.text);
    const maps = await client.request('attention', { prompt: 'Call me', chat: false, from: 'model' });
    expect(maps.tokens).toEqual(['C', 'a', 'l', 'l', ' ', 'm', 'e']);
    expect(maps.weights.length).toBe(TINY.nLayer * TINY.nHead * 7 * 7);
  });

  it('a request the worker refuses rejects with its error: code, parameters and words', async () => {
    const { client, events } = await started();
    const err = await client.request('export', { from: 'snapshot', meta: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: 'noSnapshot', message: expect.stringMatching(/no pretrained snapshot/) });
    // Answered to the request, not broadcast to the page.
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a reply of another type than the table names is refused, not passed on as the wrong thing', async () => {
    /** A worker that answers every request with "done". */
    class WrongWorker {
      onmessage: ((m: { data: Event }) => void) | null = null;
      onerror = null;
      postMessage(req: Request): void {
        if ('requestId' in req) deliver<Event>({ type: 'done', requestId: req.requestId }, [], (data) => this.onmessage?.({ data }));
      }
      terminate(): void {}
    }
    vi.stubGlobal('Worker', WrongWorker);
    const client = new WorkerClient(
      () => undefined,
      () => undefined,
    );
    client.start();
    const err = await client.request('export', { from: 'model', meta: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ProtocolError', message: 'the training worker answered with done, not file' });
    await expect(client.request('import', { bytes: new ArrayBuffer(1) })).resolves.toEqual({ type: 'done', requestId: 2 });
  });
});

describe('the message pump', () => {
  it('answers a message it does not know with an error, and keeps going', async () => {
    const posted: Event[] = [];
    const session = new WorkerSession({ post: (e) => posted.push(e), chooseBackend: async () => Promise.reject(new Error('not used')) });
    sessions.push(session);
    const pump = new MessagePump(session, (e) => posted.push(e));
    pump.receive({ type: 'selfDestruct' } as unknown as Request);
    pump.receive({ type: 'export', requestId: 3, from: 'model', meta: {} });
    await pump.idle();
    expect(posted).toEqual([
      { type: 'error', error: { name: 'Error', message: 'unknown message {"type":"selfDestruct"}' } },
      { type: 'error', requestId: 3, error: expect.objectContaining({ code: 'noModel' }) },
    ]);
  });
});
