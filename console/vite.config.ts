import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into the Python package; the server adds a <base> so relative paths honour the
// deployment's mount prefix (see src/graphport/server/api/console.py).
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "../src/graphport/server/console",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` against a local `graphport dev`: the SDK calls go to the page's origin.
    proxy: { "^/(assistants|threads|runs|store|info|ok)": "http://127.0.0.1:2024" },
  },
});
