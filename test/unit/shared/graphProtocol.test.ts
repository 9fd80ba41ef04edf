import * as assert from 'node:assert/strict';
import { PendingRequests } from '../../../src/shared/graphProtocol';

describe('PendingRequests (webview request/reply helper)', () => {
  it('resolves each request with its own reply, in any order', async () => {
    const pending = new PendingRequests<string>();
    const first = pending.start();
    const second = pending.start();
    assert.notEqual(first.requestId, second.requestId);
    assert.equal(pending.settle(second.requestId, 'two'), true);
    assert.equal(pending.settle(first.requestId, 'one'), true);
    assert.equal(await first.reply, 'one');
    assert.equal(await second.reply, 'two');
    assert.equal(pending.size, 0);
  });

  it('rejects on an error reply and ignores unknown or repeated ids', async () => {
    const pending = new PendingRequests<string>();
    const request = pending.start();
    assert.equal(pending.settle(request.requestId + 100, 'stray'), false);
    pending.settle(request.requestId, undefined, 'no such node');
    await assert.rejects(request.reply, /no such node/);
    assert.equal(pending.settle(request.requestId, 'late'), false);
  });

  it('rejects a request that gets no reply in time', async () => {
    const pending = new PendingRequests<string>(20);
    await assert.rejects(pending.start().reply, /no reply to request 1 within 20 ms/);
    assert.equal(pending.size, 0);
  });
});
