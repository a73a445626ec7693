// Copies the dashboard's browser files out of their npm packages (pinned by
// package-lock.json) into aisle_dashboard/static/vendor, where the dashboard serves
// them: nothing is fetched from a CDN at run time and nothing is copied by hand.
// The packages ship ready-built files, so there is nothing to bundle.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "aisle_dashboard", "static", "vendor");

// package -> [file in the package, name under vendor/]
const files = {
  "htmx.org": [
    ["dist/htmx.min.js", "htmx.min.js"],
    ["LICENSE", "htmx.LICENSE.txt"],
  ],
  "htmx-ext-sse": [
    ["dist/sse.min.js", "htmx-ext-sse.min.js"],
    ["LICENSE", "htmx-ext-sse.LICENSE.txt"],
  ],
  "swagger-ui-dist": [
    ["swagger-ui-bundle.js", "swagger-ui-bundle.js"],
    ["swagger-ui.css", "swagger-ui.css"],
    ["LICENSE", "swagger-ui.LICENSE.txt"],
  ],
};

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, copies] of Object.entries(files)) {
  const root = join(modules, pkg);
  versions[pkg] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  for (const [from, to] of copies) {
    cpSync(join(root, from), join(vendor, to));
  }
}
// What was built, for the dashboard to tell (and for a reader to check against the lockfile).
writeFileSync(join(vendor, "versions.json"), `${JSON.stringify(versions, null, 2)}\n`);
console.log(`dashboard assets: ${Object.entries(versions).map(([p, v]) => `${p}@${v}`).join(", ")}`);
