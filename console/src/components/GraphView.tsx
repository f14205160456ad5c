// The graph of an assistant, from GET /assistants/{id}/graph, laid out by dagre and drawn by
// React Flow; conditional edges are dashed, `xray` expands subgraphs, and the nodes that are
// executing are highlighted.
import dagre from "@dagrejs/dagre";
import { Background, Controls, MarkerType, ReactFlow, type Edge, type Node } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo, useState } from "react";
import { useLoad } from "../context";
import { ErrorBox } from "../ui";

type GraphJson = {
  nodes: { id: string | number; name?: string; data?: unknown }[];
  edges: { source: string | number; target: string | number; conditional?: boolean; data?: unknown }[];
};

const WIDTH = 150;
const HEIGHT = 40;

function layout(graph: GraphJson, active: Set<string>): { nodes: Node[]; edges: Edge[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 45 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(String(n.id), { width: WIDTH, height: HEIGHT });
  for (const e of graph.edges) g.setEdge(String(e.source), String(e.target));
  dagre.layout(g);
  const nodes: Node[] = graph.nodes.map((n) => {
    const id = String(n.id);
    const pos = g.node(id);
    const last = id.split(":").pop() ?? id;
    const running = active.has(id) || active.has(last);
    const edge = id === "__start__" || id === "__end__";
    return {
      id,
      position: { x: pos.x - WIDTH / 2, y: pos.y - HEIGHT / 2 },
      data: { label: id },
      className: `graph-node${running ? " running" : ""}${edge ? " terminal" : ""}`,
      style: { width: WIDTH },
      draggable: false,
    };
  });
  const edges: Edge[] = graph.edges.map((e, i) => ({
    id: `${e.source}->${e.target}-${i}`,
    source: String(e.source),
    target: String(e.target),
    animated: active.has(String(e.target)),
    markerEnd: { type: MarkerType.ArrowClosed },
    className: e.conditional ? "conditional" : "",
    style: e.conditional ? { strokeDasharray: "5 4" } : undefined,
    label: typeof e.data === "string" ? e.data : undefined,
  }));
  return { nodes, edges };
}

export function GraphView({ assistantId, active = new Set<string>() }: { assistantId: string; active?: Set<string> }) {
  const [xray, setXray] = useState(false);
  const graph = useLoad((api) => api.client.assistants.getGraph(assistantId, { xray }) as Promise<GraphJson>, [assistantId, xray]);
  const activeKey = [...active].sort().join(",");
  const drawn = useMemo(
    () => (graph.data ? layout(graph.data, active) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [graph.data, activeKey],
  );
  return (
    <div className="graph-panel" data-testid="graph">
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={xray} onChange={(e) => setXray(e.target.checked)} /> Expand subgraphs (xray)
        </label>
        <span className="legend muted">— edge · ┄ conditional edge · highlighted: running</span>
      </div>
      <ErrorBox error={graph.error} />
      {drawn && (
        <div className="graph-canvas">
          <ReactFlow nodes={drawn.nodes} edges={drawn.edges} fitView nodesConnectable={false} proOptions={{ hideAttribution: true }}>
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      )}
    </div>
  );
}
