// `omnibuf/document-worker`: the script of the dedicated worker that openDocumentWorker() starts (see
// js/browser.d.ts). It is run as a worker, never imported for names: it exports none.
export {};
