import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { ErlangConnection } from '../../../src/extension/erlang/connection';
import {
  BadRpcError,
  ConnectTimeoutError,
  ConnectionClosedError,
  CookieRejectedError,
  EpmdUnreachableError,
  ErlangError,
  FrameTooLargeError,
  NodeNotRegisteredError,
  NotAllowedError,
  PeerTooOldError,
  RpcTimeoutError,
} from '../../../src/extension/erlang/errors';
import { evalOnNode } from '../../../src/extension/erlang/eval';
import { DistFlag, OUR_FLAGS } from '../../../src/extension/erlang/handshake';
import { Pid, Tuple, atom, isAtom, isTuple, type Term } from '../../../src/extension/erlang/terms';
import { startNode, stopAllNodes, type TestNode } from './helpers/erlang-node';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected the promise to reject');
}

describe('Erlang distribution connection', function () {
  this.timeout(30_000);
  let target: TestNode;
  let conn: ErlangConnection;

  before(async () => {
    target = await startNode();
    conn = await ErlangConnection.connect({ node: target.node, cookie: target.cookie });
  });
  after(async () => {
    conn?.close();
    await stopAllNodes();
  });

  it('joins as a hidden node: in nodes(hidden), not in nodes()', async () => {
    assert.deepEqual(await conn.rpc('erlang', 'nodes', []), []);
    assert.deepEqual(await conn.rpc('erlang', 'nodes', [atom('hidden')]), [atom(conn.selfNode)]);
    assert.equal(conn.node, target.node);
    assert.equal(OUR_FLAGS & DistFlag.published, 0n);
  });

  it('calls functions with rpc', async () => {
    assert.equal(await conn.rpc('lists', 'sum', [[1, 2, 3]]), 6);
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => conn.rpc('erlang', 'abs', [-i])),
    );
    assert.deepEqual(
      many,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('turns badrpc into an error with the reason printed the Erlang way', async () => {
    const error = await rejection(conn.rpc('erlang', 'binary_to_atom', [[1, 2]]));
    assert.ok(error instanceof BadRpcError);
    assert.match(
      error.message,
      /^rpc erlang:binary_to_atom\/1 failed: \{'EXIT',\{badarg,\[\{erlang,binary_to_atom,\[\[1,2\]\]/,
    );
    const undef = await rejection(conn.rpc('no_such_module', 'f', []));
    assert.match(undef.message, /\{'EXIT',\{undef,\[\{no_such_module,f,\[\],\[\]\}/);
  });

  it('times out an rpc without breaking the connection', async () => {
    const error = await rejection(conn.rpc('timer', 'sleep', [2000], { timeoutMs: 100 }));
    assert.ok(error instanceof RpcTimeoutError);
    assert.equal(error.message, 'rpc timer:sleep/1 got no reply within 100 ms');
    assert.equal(await conn.rpc('erlang', 'abs', [-5]), 5);
  });

  it('collects what remote processes print during rpc', async () => {
    const printed: string[] = [];
    conn.on('output', (text) => printed.push(text));
    await conn.rpc('io', 'format', [Buffer.from('x=~p~n'), [[1, 2]]]);
    assert.deepEqual(printed, ['x=[1,2]\n']);
  });

  it('delivers messages to mailboxes by pid and by registered name', async () => {
    const mailbox = conn.createMailbox({ name: 'bathy_inbox' });
    await conn.rpc('erlang', 'send', [mailbox.pid, new Tuple([atom('hello'), 1])]);
    assert.deepEqual(await mailbox.receive({ timeoutMs: 2000 }), new Tuple([atom('hello'), 1]));
    await conn.rpc('erlang', 'send', [
      new Tuple([atom('bathy_inbox'), atom(conn.selfNode)]),
      atom('by_name'),
    ]);
    assert.deepEqual(await mailbox.receive({ timeoutMs: 2000 }), atom('by_name'));
    mailbox.close();
  });

  it('bounds a mailbox queue when asked, counting what it drops', async () => {
    const mailbox = conn.createMailbox({ maxQueued: 3 });
    for (let i = 0; i < 5; i++) await conn.rpc('erlang', 'send', [mailbox.pid, i]);
    assert.equal(mailbox.dropped, 2);
    const received = [await mailbox.receive(), await mailbox.receive(), await mailbox.receive()];
    assert.deepEqual(received, [0, 1, 2]);
    mailbox.close();
  });

  it('monitors remote processes: exit reason, noproc, noconnection', async () => {
    const sleeper = (await conn.rpc('erlang', 'spawn', [
      atom('timer'),
      atom('sleep'),
      [50],
    ])) as Pid;
    assert.deepEqual(await conn.monitor(sleeper).down, atom('normal'));
    assert.deepEqual(await conn.monitor(atom('no_such_registered_name')).down, atom('noproc'));

    const other = await ErlangConnection.connect({ node: target.node, cookie: target.cookie });
    const forever = (await other.rpc('erlang', 'spawn', [
      atom('timer'),
      atom('sleep'),
      [atom('infinity')],
    ])) as Pid;
    const watch = other.monitor(forever);
    other.close();
    assert.deepEqual(await watch.down, atom('noconnection'));
  });

  it('lets node processes monitor our mailboxes (DOWN with our exit reason)', async () => {
    const watched = conn.createMailbox();
    const reports = conn.createMailbox();
    await evalOnNode(
      conn,
      `spawn(fun() -> erlang:monitor(process, Watched), Reports ! monitoring,
                      receive {'DOWN', _, process, _, Why} -> Reports ! {down, Why} end end).`,
      { bindings: { Watched: watched.pid, Reports: reports.pid } },
    );
    assert.deepEqual(await reports.receive({ timeoutMs: 2000 }), atom('monitoring'));
    watched.close(atom('bye'));
    assert.deepEqual(
      await reports.receive({ timeoutMs: 2000 }),
      new Tuple([atom('down'), atom('bye')]),
    );
  });

  it('acknowledges UNLINK_ID when a node process links and then unlinks', async () => {
    const mailbox = conn.createMailbox();
    const acksBefore = conn.stats.unlinkAcksSent;
    const links = await conn.rpc('bathysphere_test_termgen', 'link_then_unlink', [mailbox.pid]);
    assert.deepEqual(links, []);
    assert.equal(conn.stats.unlinkAcksSent, acksBefore + 1);
    assert.equal(mailbox.links.size, 0);

    // A link that stays: closing the mailbox with a reason kills the linked process.
    const child = (await conn.rpc('bathysphere_test_termgen', 'link_and_wait', [
      mailbox.pid,
    ])) as Pid;
    assert.equal(mailbox.links.size, 1);
    const watch = conn.monitor(child);
    mailbox.close(atom('boom'));
    assert.deepEqual(await watch.down, atom('boom'));
  });

  it('receives exit signals of linked processes as messages', async () => {
    const mailbox = conn.createMailbox();
    const sleeper = (await conn.rpc('erlang', 'spawn', [
      atom('timer'),
      atom('sleep'),
      [atom('infinity')],
    ])) as Pid;
    mailbox.link(sleeper);
    await conn.rpc('erlang', 'exit', [sleeper, atom('kill')]);
    const signal = (await mailbox.receive({ timeoutMs: 2000 })) as Tuple;
    assert.ok(isAtom(signal.elements[0], 'EXIT'));
    assert.deepEqual(signal.elements.slice(1), [sleeper, atom('killed')]);
    mailbox.close();
  });

  it('closes the connection on a packet above maxFrameBytes and fails the pending call', async () => {
    const small = await ErlangConnection.connect({
      node: target.node,
      cookie: target.cookie,
      maxFrameBytes: 1000,
    });
    const closed = new Promise<[string, ErlangError]>((resolve) =>
      small.on('close', (r, e) => resolve([r, e])),
    );
    const error = await rejection(small.rpc('binary', 'copy', [Buffer.from('x'), 5000]));
    assert.ok(error instanceof ConnectionClosedError);
    const [reason] = await closed;
    assert.match(reason, /protocol error: peer sent a \d+-byte packet; the limit is 1000 bytes/);
    assert.ok(new FrameTooLargeError(1, 1).message.includes('limit'));
  });

  it('connects to a node with a long name', async () => {
    const longNode = await startNode({ longName: true });
    const c = await ErlangConnection.connect({ node: longNode.node, cookie: longNode.cookie });
    assert.equal(await c.rpc('erlang', 'node', []), atom(longNode.node));
    c.close();
    await longNode.kill();
  });
});

describe('Erlang connection errors a person can act on', function () {
  this.timeout(30_000);
  let target: TestNode;

  before(async () => {
    target = await startNode();
  });
  after(stopAllNodes);

  it('no EPMD on the host', async () => {
    const error = await rejection(
      ErlangConnection.connect({ node: 'x@localhost', cookie: 'c', epmdPort: 1 }),
    );
    assert.ok(error instanceof EpmdUnreachableError);
    assert.match(
      error.message,
      /cannot reach EPMD on localhost:1 \(.*ECONNREFUSED.*\); no Erlang node is running there/,
    );
  });

  it('node name not registered: lists the registered names', async () => {
    const host = target.node.split('@')[1];
    const error = await rejection(
      ErlangConnection.connect({ node: `nobody_here@${host}`, cookie: 'c' }),
    );
    assert.ok(error instanceof NodeNotRegisteredError);
    assert.ok(error.registeredNames.includes(target.name));
    assert.match(
      error.message,
      new RegExp(`no node named 'nobody_here' .*registered names: .*${target.name}`),
    );
  });

  it('wrong cookie', async () => {
    const error = await rejection(ErlangConnection.connect({ node: target.node, cookie: 'wrong' }));
    assert.ok(error instanceof CookieRejectedError);
    assert.match(error.message, new RegExp(`^the cookie was rejected by ${target.node}`));
  });

  it('not_allowed', async () => {
    const picky = await startNode({
      args: ['-eval', 'net_kernel:allow([\'someone@else\']), io:format("allow-set~n")'],
      readyOutput: 'allow-set',
    });
    const error = await rejection(
      ErlangConnection.connect({ node: picky.node, cookie: picky.cookie }),
    );
    assert.ok(error instanceof NotAllowedError);
    assert.match(error.message, /refused the connection \(not_allowed\)/);
    await picky.kill();
  });

  it('peer older than OTP 25 (missing flags), and pre-OTP 23 handshake', async () => {
    const oldFlags = OUR_FLAGS & ~DistFlag.mandatory25Digest;
    for (const reply of [challengeMessage(oldFlags), Buffer.from('n')]) {
      const { port, close } = await fakePeer(reply);
      const error = await rejection(
        ErlangConnection.connect({ node: 'old@localhost', cookie: 'c', port }),
      );
      close();
      assert.ok(error instanceof PeerTooOldError, String(error));
      assert.match(error.message, /older than 25/);
    }
  });

  it('a peer that never finishes the handshake times out', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    const error = await rejection(
      ErlangConnection.connect({
        node: 'mute@localhost',
        cookie: 'c',
        port,
        connectTimeoutMs: 300,
      }),
    );
    silent.close();
    assert.ok(error instanceof ConnectTimeoutError, String(error));
    assert.equal(error.message, 'connecting to mute@localhost timed out after 300 ms (handshake)');
    assert.ok(Date.now() - started < 1000);
  });

  it('detects a killed node at once: close event with reason, pending rpc rejected', async () => {
    const victim = await startNode();
    const c = await ErlangConnection.connect({ node: victim.node, cookie: victim.cookie });
    const closed = new Promise<string>((resolve) => c.on('close', (reason) => resolve(reason)));
    const pending = rejection(c.rpc('timer', 'sleep', [10_000]));
    const started = Date.now();
    await victim.kill('SIGKILL');
    const error = await pending;
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(
      await closed,
      /the peer closed the connection|the connection failed: .*ECONNRESET/,
    );
    assert.ok(Date.now() - started < 2000);
    assert.equal(c.isOpen, false);
    await rejection(c.rpc('erlang', 'node', [])).then((e) =>
      assert.ok(e instanceof ConnectionClosedError),
    );
  });

  it('detects a frozen node within the tick time, and keeps an idle healthy one', async () => {
    const frozen = await startNode();
    const healthy = await ErlangConnection.connect({
      node: target.node,
      cookie: target.cookie,
      tickMs: 1000,
    });
    const c = await ErlangConnection.connect({
      node: frozen.node,
      cookie: frozen.cookie,
      tickMs: 1000,
    });
    frozen.process.kill('SIGSTOP');
    const started = Date.now();
    const error = await rejection(c.rpc('erlang', 'node', [], { timeoutMs: 10_000 }));
    const elapsed = Date.now() - started;
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(error.message, /tick timeout/);
    assert.ok(elapsed < 2500, `detected after ${elapsed} ms (tickMs 1000)`);
    // The idle connection with the same short tick time is still up: probes keep it alive.
    await new Promise((r) => setTimeout(r, 1500));
    // A stalled event loop (1.5 s of synchronous work) is not taken for a dead peer.
    const until = Date.now() + 1500;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(healthy.isOpen);
    assert.equal(await healthy.rpc('erlang', 'abs', [-1]), 1);
    healthy.close();
    await frozen.kill();
  });
});

function challengeMessage(flags: bigint): Buffer {
  const name = Buffer.from('old@localhost');
  const body = Buffer.alloc(19 + name.length);
  body.write('N', 0);
  body.writeBigUInt64BE(flags, 1);
  body.writeUInt32BE(12345, 9);
  body.writeUInt32BE(7, 13);
  body.writeUInt16BE(name.length, 17);
  name.copy(body, 19);
  return body;
}

/** A TCP server that answers the handshake with status ok and then `challenge`. */
async function fakePeer(challenge: Buffer): Promise<{ port: number; close(): void }> {
  const frame = (body: Buffer) =>
    Buffer.concat([Buffer.from([body.length >> 8, body.length & 255]), body]);
  const server = net.createServer((socket) => {
    socket.once('data', () =>
      socket.write(Buffer.concat([frame(Buffer.from('sok')), frame(challenge)])),
    );
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

export function firstElement(term: Term): Term | undefined {
  return isTuple(term) ? term.elements[0] : undefined;
}
