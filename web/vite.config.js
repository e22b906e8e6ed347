// vite bundles src/ into static files (index.html + assets/ named by content hash); CMake passes
// --outDir (build/web). `npm run dev` serves the UI with hot reload and forwards the API to a
// running `trainyard server` (TRAINYARD_URL, default http://127.0.0.1:8080).
import { defineConfig } from "vite";

const server = process.env.TRAINYARD_URL || "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../build/web",  // where build/apps/trainyard looks; CMake passes its own build dir
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,  // no data: URLs, so the page's Content-Security-Policy stays strict
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api": { target: server, changeOrigin: true },
      "/healthz": { target: server, changeOrigin: true },
    },
  },
});
