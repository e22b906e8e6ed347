// The REST API (docs/api.md) from the browser: JSON calls with the bearer token, uploads with
// progress, downloads of artifacts, and readable errors.
const TOKEN_KEY = "trainyard.token";
const API = "/api/v1";

export function storedToken() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function storeToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

// An error the server answered ({"error": {"code", "message", "field"}}), or one of our own
// (status 0: the server could not be reached).
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || "";
  }
}

// Listeners told when the server refuses the token (the app shows the sign-in form again).
const unauthenticatedListeners = new Set();
export function onUnauthenticated(listener) {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export function authHeaders(extra = {}) {
  const token = storedToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : { ...extra };
}

async function errorOf(response) {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (body && body.error) {
      return new ApiError(response.status, body.error.code, body.error.message, body.error.field);
    }
  } catch {
    // not JSON: fall through
  }
  const reason = text.trim() || response.statusText || "no message";
  return new ApiError(response.status, `HTTP ${response.status}`, reason);
}

function unreachable(cause) {
  return new ApiError(0, "Unavailable",
    `Cannot reach the trainyard server (${cause && cause.message ? cause.message : cause}).`);
}

function noteRefusal(error) {
  if (error.status === 401) unauthenticatedListeners.forEach((listener) => listener(error));
}

// fetch() under /api/v1 with the token. Throws ApiError; answers the parsed JSON (null for 204).
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (cause) {
    if (cause && cause.name === "AbortError") throw cause;
    throw unreachable(cause);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    noteRefusal(error);
    throw error;
  }
  if (response.status === 204) return null;
  return response.json();
}

// Every job of a sweep, following next_page_token.
export async function listAllJobs(sweepId, signal) {
  const jobs = [];
  let pageToken = "";
  do {
    const query = `/jobs?sweep=${encodeURIComponent(sweepId)}&limit=1000` +
      (pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : "");
    const page = await api(query, { signal });
    jobs.push(...page.jobs);
    pageToken = page.next_page_token || "";
  } while (pageToken);
  return jobs;
}

// Uploads one file as a dataset (raw body, so XMLHttpRequest can report the upload's progress).
// Returns {promise, abort}; the promise resolves to the dataset the server made.
export function uploadDataset(file, { name, kind }, onProgress) {
  const xhr = new XMLHttpRequest();
  const query = new URLSearchParams({ name, kind, filename: file.name });
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", `${API}/datasets?${query}`);
    for (const [header, value] of Object.entries(authHeaders())) xhr.setRequestHeader(header, value);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // handled below
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        onProgress(file.size, file.size);
        resolve(body);
        return;
      }
      const error = body && body.error
        ? new ApiError(xhr.status, body.error.code, body.error.message, body.error.field)
        : new ApiError(xhr.status, `HTTP ${xhr.status}`, xhr.responseText || xhr.statusText);
      noteRefusal(error);
      reject(error);
    };
    xhr.onerror = () => reject(unreachable("the upload was cut off"));
    xhr.onabort = () => reject(new ApiError(0, "Cancelled", "The upload was cancelled."));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

// RFC 6266: filename* (UTF-8, percent-encoded) is the exact name; filename="..." an ASCII
// fallback.
function filenameOf(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const exact = /filename\*=UTF-8''([^;\s]+)/i.exec(disposition);
  if (exact) {
    try {
      return decodeURIComponent(exact[1]);
    } catch {
      // not valid percent-encoding: the fallback below
    }
  }
  const match = /filename="([^"]+)"/.exec(disposition);
  return match ? match[1] : fallback;
}

// Downloads an API resource as a file: fetched with the token (a plain link cannot send it),
// then handed to the browser as a blob.
export async function download(path, fallbackName) {
  let response;
  try {
    response = await fetch(API + path, { headers: authHeaders() });
  } catch (cause) {
    throw unreachable(cause);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    noteRefusal(error);
    throw error;
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filenameOf(response, fallbackName);
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
