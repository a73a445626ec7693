// Bundles the canvas (src/main.tsx) with its CSS into ../aisle_dashboard/static/canvas:
// one script, one stylesheet, minified, no source maps (the sources are in the repo),
// and the licences of the bundled packages next to them.
import { build } from "esbuild";
import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const out = fileURLToPath(new URL("../aisle_dashboard/static/canvas/", import.meta.url));
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { canvas: "src/main.tsx" },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  legalComments: "linked",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
