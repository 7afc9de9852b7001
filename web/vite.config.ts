import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** `make build`: the dashboard into dist/dashboard, which the pool serves at / (src/dashboard). */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/dashboard", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // the pool gzips each file itself; the sizes vite would print are not what crosses the wire
    reportCompressedSize: false,
    sourcemap: false,
    // the bundled packages' licenses (xterm.js), for the packages' copyright files
    license: { fileName: "licenses.md" },
  },
});
