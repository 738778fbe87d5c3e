/**
 * pdf.js for the page. Its worker script is one of our build's own files (Vite's `?url` copies it into dist/
 * and gives its address), so reading a PDF fetches nothing from elsewhere. Imported on demand (extract.ts):
 * pdf.js is large and only a PDF needs it.
 */
import * as pdfjs from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

export { pdfjs };
