// Starts the page's wasm module. A file rather than Trunk's inline loader, so the
// pages' Content-Security-Policy can forbid inline scripts.
const tag = document.querySelector('script[data-js][data-wasm]');
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
