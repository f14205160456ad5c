// Writes manifest.json beside the built console: a hash of everything the build reads, which
// tests/test_console_assets.py recomputes to prove the committed assets match the sources.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const ROOT = import.meta.dirname;
const INPUTS = ["src", "index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"];

function files(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => files(join(path, name)));
}

const paths = INPUTS.flatMap((p) => files(join(ROOT, p)))
  .map((p) => relative(ROOT, p).split(sep).join("/"))
  .sort();
const total = createHash("sha256");
for (const path of paths) {
  const digest = createHash("sha256").update(readFileSync(join(ROOT, path))).digest("hex");
  total.update(`${path}\n${digest}\n`);
}
const manifest = { sources: total.digest("hex"), files: paths.length };
writeFileSync(join(ROOT, "../src/graphport/server/console/manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`console: sources ${manifest.sources}`);
