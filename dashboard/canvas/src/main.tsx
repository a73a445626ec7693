// Mounts the canvas on the page the dashboard serves (templates/canvas.html), which
// carries the journey id, the API's base path, the session's CSRF token and the looks.
import "@xyflow/react/dist/style.css";
import "./canvas.css";
import { ReactFlowProvider } from "@xyflow/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Api } from "./api";
import { Canvas } from "./App";
import type { Looks } from "./types";

const mount = document.getElementById("aisle-canvas");
const looksElement = document.getElementById("aisle-canvas-looks");
if (mount && looksElement) {
  const { journeyId = "", apiBase = "/api/v1", csrf = "", canEdit } = mount.dataset;
  const looks = JSON.parse(looksElement.textContent ?? "{}") as Looks;
  createRoot(mount).render(
    <StrictMode>
      <ReactFlowProvider>
        <Canvas api={new Api(apiBase, csrf)} journeyId={journeyId} looks={looks} canEdit={canEdit === "true"} />
      </ReactFlowProvider>
    </StrictMode>,
  );
}
