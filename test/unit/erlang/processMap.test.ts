import * as assert from 'node:assert/strict';
import {
  GROUP_PREFIX,
  processMapContent,
  type ProcessGraphNode,
} from '../../../src/extension/erlang/processGraph';
import { diffGraphs } from '../../../src/shared/graphProtocol';

function processNode(pid: string, supervisor?: string, kind = 'process'): ProcessGraphNode {
  return {
    id: pid,
    label: pid,
    kind,
    ...(supervisor ? { parent: supervisor } : {}),
    data: {
      pid,
      level: 'explored',
      state: 'alive',
      exitReason: null,
      registeredName: null,
      initialCall: null,
      application: null,
      chosen: false,
      boundary: false,
      parent: supervisor ?? null,
      supervisor: supervisor ?? null,
    },
  };
}

const link = (a: string, b: string) => ({
  id: `link:${a}:${b}`,
  source: a,
  target: b,
  kind: 'link',
});

describe('processMapContent (supervisors drawn as groups)', () => {
  it("puts a supervisor and its children in a group box, nested in its own supervisor's", () => {
    const nodes = [
      processNode('top', undefined, 'supervisor'),
      processNode('mid', 'top', 'supervisor'),
      processNode('w1', 'mid'),
      processNode('w2', 'top'),
      processNode('loner'),
    ];
    const content = processMapContent({ nodes, edges: [link('top', 'mid'), link('mid', 'w1')] });
    const parentOf = new Map(content.nodes.map((n) => [n.id, n.parent]));
    assert.equal(parentOf.get(`${GROUP_PREFIX}top`), undefined);
    assert.equal(parentOf.get(`${GROUP_PREFIX}mid`), `${GROUP_PREFIX}top`);
    assert.equal(parentOf.get('top'), `${GROUP_PREFIX}top`);
    assert.equal(parentOf.get('mid'), `${GROUP_PREFIX}mid`);
    assert.equal(parentOf.get('w1'), `${GROUP_PREFIX}mid`);
    assert.equal(parentOf.get('w2'), `${GROUP_PREFIX}top`);
    assert.equal(parentOf.get('loner'), undefined);
    // No edge runs between a box and what it contains: edges join processes only.
    const groups = new Set(content.nodes.filter((n) => n.kind === 'group').map((n) => n.id));
    assert.deepEqual([...groups].sort(), [`${GROUP_PREFIX}mid`, `${GROUP_PREFIX}top`]);
    for (const edge of content.edges)
      assert.ok(!groups.has(edge.source) && !groups.has(edge.target));
  });

  it('gives a supervisor without children on the map no box', () => {
    const content = processMapContent({
      nodes: [
        processNode('sup', undefined, 'supervisor'),
        processNode('idle', 'sup', 'supervisor'),
      ],
      edges: [],
    });
    assert.deepEqual(content.nodes.map((n) => [n.id, n.parent]).sort(), [
      [`${GROUP_PREFIX}sup`, undefined],
      ['idle', `${GROUP_PREFIX}sup`],
      ['sup', `${GROUP_PREFIX}sup`],
    ]);
  });

  it('cuts a supervision cycle instead of nesting a box in itself', () => {
    const content = processMapContent({
      nodes: [
        processNode('a', 'b', 'supervisor'),
        processNode('b', 'a', 'supervisor'),
        processNode('w', 'a'),
      ],
      edges: [],
    });
    const parentOf = new Map(content.nodes.map((n) => [n.id, n.parent]));
    assert.equal(parentOf.get(`${GROUP_PREFIX}a`), undefined);
    assert.equal(parentOf.get(`${GROUP_PREFIX}b`), undefined);
    assert.equal(parentOf.get('w'), `${GROUP_PREFIX}a`);
  });

  it('reports a worker that found its supervisor as a move into the new box', () => {
    const before = processMapContent({
      nodes: [processNode('sup', undefined, 'supervisor'), processNode('w')],
      edges: [],
    });
    const after = processMapContent({
      nodes: [processNode('sup', undefined, 'supervisor'), processNode('w', 'sup')],
      edges: [link('sup', 'w')],
    });
    const delta = diffGraphs(before, after);
    assert.deepEqual(
      delta.nodesAdded.map((n) => n.id),
      [`${GROUP_PREFIX}sup`],
    );
    assert.deepEqual(delta.nodesChanged.map((n) => [n.id, n.parent]).sort(), [
      ['sup', `${GROUP_PREFIX}sup`],
      ['w', `${GROUP_PREFIX}sup`],
    ]);
    assert.deepEqual(
      delta.edgesAdded.map((e) => e.id),
      ['link:sup:w'],
    );
  });
});
