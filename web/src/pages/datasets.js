// Datasets: drag-and-drop (or choose) files to upload, each with its own progress bar; the list
// with size, SHA-256 (as the server computed it), download and delete.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, download, uploadDataset } from "../lib/api.js";
import { formatBytes, formatTime } from "../lib/format.js";
import { ErrorBox, Spinner } from "../components/common.js";

export const KINDS = ["training", "evaluation", "pretrained", "config", "other"];

// A guess from the file's name, for "Guess from the name".
export function guessKind(filename) {
  const name = filename.toLowerCase();
  if (/eval|valid|test/.test(name)) return "evaluation";
  if (/config|\.ya?ml$|\.toml$|\.ini$/.test(name)) return "config";
  if (/model|pretrain|checkpoint|\.pt$|\.pth$|\.bin$|\.safetensors$/.test(name)) return "pretrained";
  if (/train/.test(name)) return "training";
  return "training";
}

let nextUploadId = 1;

function UploadRow({ upload, onCancel }) {
  const fraction = upload.total ? upload.loaded / upload.total : 0;
  return html`
    <li class=${`upload upload-${upload.state}`} data-testid="upload" data-file=${upload.file.name}
      data-state=${upload.state}>
      <div class="upload-head">
        <span class="upload-name">${upload.file.name}</span>
        <span class="muted">${upload.kind} · ${formatBytes(upload.file.size)}</span>
        ${upload.state === "uploading" && html`<button type="button" class="link-button"
          onClick=${() => onCancel(upload)} aria-label=${`Cancel the upload of ${upload.file.name}`}>Cancel</button>`}
      </div>
      <div class="upload-progress">
        <progress max="1" value=${upload.state === "done" ? 1 : fraction}
          aria-label=${`Upload of ${upload.file.name}`}></progress>
        <span class="progress-text">${upload.state === "done" ? "Uploaded"
          : upload.state === "failed" ? "Failed"
          : `${Math.round(fraction * 100)}% · ${formatBytes(upload.loaded)} of ${formatBytes(upload.total || upload.file.size)}`}</span>
      </div>
      ${upload.dataset && html`<p class="upload-result">${`${upload.dataset.id} · SHA-256 `}
        <code class="sha">${upload.dataset.sha256}</code></p>`}
      ${upload.error && html`<${ErrorBox} error=${upload.error} title=${`The upload of ${upload.file.name} failed`} />`}
    </li>`;
}

function DeleteButton({ dataset, onDeleted, onError }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!confirming) return undefined;
    const timer = setTimeout(() => setConfirming(false), 4000);
    return () => clearTimeout(timer);
  }, [confirming]);
  async function remove() {
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    try {
      await api(`/datasets/${encodeURIComponent(dataset.id)}`, { method: "DELETE" });
      onDeleted(dataset);
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }
  return html`<button type="button" class=${confirming ? "danger" : "secondary"} disabled=${busy}
    onClick=${remove} aria-label=${confirming ? `Confirm: delete ${dataset.name}` : `Delete ${dataset.name}`}>
    ${confirming ? "Really delete?" : "Delete"}</button>`;
}

export function DatasetsPage() {
  const [datasets, setDatasets] = useState(null);
  const [error, setError] = useState(null);
  const [uploads, setUploads] = useState([]);
  const [kind, setKind] = useState("guess");
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef(null);
  const aborts = useRef(new Map());

  async function load() {
    try {
      setDatasets((await api("/datasets")).datasets);
    } catch (caught) {
      setError(caught);
    }
  }
  useEffect(() => {
    document.title = "Datasets · trainyard";
    load();
  }, []);

  function update(id, change) {
    setUploads((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }

  function start(files) {
    const added = [...files].map((file) => ({
      id: nextUploadId++,
      file,
      kind: kind === "guess" ? guessKind(file.name) : kind,
      loaded: 0,
      total: file.size,
      state: "uploading",
    }));
    setUploads((list) => [...added, ...list]);
    for (const upload of added) {
      const { promise, abort } = uploadDataset(upload.file, { name: upload.file.name, kind: upload.kind },
        (loaded, total) => update(upload.id, { loaded, total }));
      aborts.current.set(upload.id, abort);
      promise.then((dataset) => {
        update(upload.id, { state: "done", dataset });
        load();
      }, (failure) => update(upload.id, { state: "failed", error: failure }))
        .finally(() => aborts.current.delete(upload.id));
    }
  }

  function onDrop(event) {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer && event.dataTransfer.files.length) start(event.dataTransfer.files);
  }

  return html`
    <section>
      <h1>Datasets</h1>
      <p class="lead">Files the sweeps train on: training and evaluation data, a pretrained model,
        a config. Each is one file; archives (zip, tar) arrive unpacked in the job's channel.</p>
      <div class="card">
        <h2>Upload</h2>
        <div class="field inline">
          <label for="upload-kind">Kind of the new files</label>
          <select id="upload-kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
            <option value="guess">Guess from the name</option>
            ${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}
          </select>
        </div>
        <div class=${dragging ? "drop-zone dragging" : "drop-zone"} data-testid="drop-zone"
          onDragOver=${(e) => { e.preventDefault(); setDragging(true); }}
          onDragLeave=${() => setDragging(false)} onDrop=${onDrop}>
          <p>Drop files here, or</p>
          <input id="dataset-files" class="visually-hidden file-input" type="file" multiple
            ref=${fileInput} onChange=${(e) => { start(e.target.files); e.target.value = ""; }} />
          <label class="button" for="dataset-files">Choose files…</label>
        </div>
        ${uploads.length > 0 && html`
          <ul class="uploads" aria-label="Uploads">
            ${uploads.map((upload) => html`<${UploadRow} key=${upload.id} upload=${upload}
              onCancel=${(u) => aborts.current.get(u.id) && aborts.current.get(u.id)()} />`)}
          </ul>`}
      </div>
      <${ErrorBox} error=${error} title="The datasets could not be changed" onDismiss=${() => setError(null)} />
      <h2>All datasets</h2>
      ${datasets === null ? html`<${Spinner} label="Loading the datasets" />`
        : datasets.length === 0 ? html`<p class="muted">No datasets yet: upload some above.</p>`
        : html`
        <div class="table-scroll">
          <table class="data stack" data-testid="datasets">
            <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Size</th>
              <th scope="col">SHA-256</th><th scope="col">Uploaded</th><th scope="col">ID</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${datasets.map((dataset) => html`
                <tr key=${dataset.id} data-testid="dataset-row" data-name=${dataset.name} data-id=${dataset.id}>
                  <td data-label="Name">${dataset.name}</td>
                  <td data-label="Kind">${dataset.kind}</td>
                  <td data-label="Size" class="number">${formatBytes(dataset.size)}</td>
                  <td data-label="SHA-256"><code class="sha" data-testid="sha256">${dataset.sha256}</code></td>
                  <td data-label="Uploaded">${formatTime(dataset.created_at)}</td>
                  <td data-label="ID"><code>${dataset.id}</code></td>
                  <td class="actions">
                    <button type="button" class="secondary"
                      onClick=${() => download(`/datasets/${encodeURIComponent(dataset.id)}/content`,
                        dataset.filename || dataset.name).catch(setError)}
                      aria-label=${`Download ${dataset.name}`}>Download</button>
                    <${DeleteButton} dataset=${dataset} onError=${setError}
                      onDeleted=${() => load()} />
                  </td>
                </tr>`)}
            </tbody>
          </table>
        </div>`}
    </section>`;
}
