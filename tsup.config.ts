import { defineConfig } from "tsup";

// dist/: ESM (index.js) + CJS (index.cjs) + declarations, from the sans-IO core.
export default defineConfig({
  entry: { index: "core/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  outDir: "dist",
});
