// The photo desk: a browser client of the public API, like any other client.
// The API key lives in this tab's session storage; files go straight to the store
// (create → presigned POST → finalize), larger ones in parts (the resumable path).
"use strict";

const KEY_ITEM = "photoservice.apiKey";
const PAGE_SIZE = 24;
// Past this size a file goes up in parts, each retried alone (docs/api.md).
const MULTIPART_THRESHOLD = 100 * 1024 * 1024;
const PARTS_PER_REQUEST = 10;
const PART_ATTEMPTS = 3;
const POLL_MS = 1000;
const POLL_LIMIT = 180;
const RATE_LIMIT_RETRIES = 5;
const PARALLEL_UPLOADS = 3;

const $ = (id) => document.getElementById(id);
const state = { page: 1, job: "", tag: "" };

class ApiError extends Error {
  constructor(status, body) {
    const fields = body && body.errors ? Object.entries(body.errors)
      .map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`).join("; ") : "";
    super((body && body.message ? body.message : `HTTP ${status}`) + (fields ? ` (${fields})` : ""));
    this.status = status;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, body, attempt = 0) {
  const headers = { "X-API-KEY": apiKey() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new Error("The service cannot be reached.");
  }
  // Over the key's rate limit (several uploads at once): wait as told, then ask again.
  const wait = Number(response.headers.get("Retry-After"));
  if (response.status === 429 && wait && attempt < RATE_LIMIT_RETRIES) {
    await pause(wait * 1000 * (1 + Math.random()));
    return api(method, path, body, attempt + 1);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    // not JSON: a proxy's error page, say; the status speaks for it
  }
  if (response.status === 401) forgetKey("That API key was refused.");
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (wait) error.message += ` Try again in ${wait} s.`;
    throw error;
  }
  return data;
}

function say(message) {
  $("status").textContent = message;
}

// --- The key -------------------------------------------------------------

function useKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_ITEM, key);
  $("api-key").value = "";
  showDesk();
}

function forgetKey(reason) {
  sessionStorage.removeItem(KEY_ITEM);
  $("desk").hidden = true;
  $("forget-key").hidden = true;
  say(typeof reason === "string" ? reason : "Key forgotten.");
  $("api-key").focus();
}

function showDesk() {
  $("desk").hidden = false;
  $("forget-key").hidden = false;
  loadPage(1);
}

// --- The grid --------------------------------------------------------------

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "Capture time unknown";
}

function place(photo) {
  const location = photo.location;
  if (location) {
    const short = [location.city, location.state].filter(Boolean).join(", ");
    return short || location.display_name || "Place unknown";
  }
  return photo.latitude != null ? `${photo.latitude.toFixed(4)}, ${photo.longitude.toFixed(4)}` : "No place";
}

function progressOf(photo) {
  if (photo.status !== "uploaded") return "waiting for upload";
  if (photo.media_status === "failed") return "failed: " + (photo.media_error || "the file could not be read");
  if (photo.processing_status === "processing_failed") return "failed: " + (photo.processing_error || "processing failed");
  if (photo.media_status === "processed" && photo.processing_status === "processed") return "processed";
  return "processing";
}

function thumbnailOf(photo) {
  return photo.variants && photo.variants.thumbnail ? photo.variants.thumbnail.url : null;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fillTile(tile, photo) {
  const button = tile.querySelector("button");
  button.replaceChildren();
  const url = thumbnailOf(photo);
  if (url) {
    const image = element("img");
    image.src = url;
    image.alt = photo.name;
    image.loading = "lazy";
    button.append(image);
  } else {
    button.append(element("span", "placeholder", photo.is_video ? "Video" : "No thumbnail yet"));
  }
  const caption = element("span", "caption");
  caption.append(element("strong", "name", photo.name), element("span", "when", when(photo.captured_at)),
                 element("span", "place", place(photo)), element("span", "state", progressOf(photo)));
  button.append(caption);
  button.setAttribute("aria-label", `${photo.name}, ${when(photo.captured_at)}, ${place(photo)}, ${progressOf(photo)}`);
  tile.dataset.status = progressOf(photo).split(":")[0];
  tile.dataset.photoId = photo.id;
}

function newTile(photo) {
  const tile = element("li", "tile");
  const button = element("button");
  button.type = "button";
  button.addEventListener("click", () => openDetail(Number(tile.dataset.photoId), button));
  tile.append(button);
  fillTile(tile, photo);
  return tile;
}

function query(page) {
  const params = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
  if (state.job) params.set("job", state.job);
  if (state.tag) params.append("tags", state.tag);
  return params;
}

async function loadPage(page) {
  say("Loading photos…");
  try {
    const body = await api("GET", `/light/photos/?${query(page)}`);
    state.page = page;
    $("grid").replaceChildren(...body.results.map(newTile));
    const pages = Math.max(1, Math.ceil(body.count / PAGE_SIZE));
    $("page-info").textContent = `Page ${page} of ${pages} (${body.count} photos)`;
    $("previous-page").disabled = !body.previous;
    $("next-page").disabled = !body.next;
    say(body.count ? `${body.count} photos.` : "No photos yet: drop some above.");
  } catch (error) {
    if (apiKey()) say("Could not load photos: " + error.message);
  }
}

function applyFilters(event) {
  event.preventDefault();
  state.job = $("filter-job").value.trim();
  state.tag = $("filter-tag").value.trim();
  loadPage(1);
}

function clearFilters() {
  state.job = "";
  state.tag = "";
  loadPage(1);
}

// --- One photo ---------------------------------------------------------------

async function openDetail(photoId, opener) {
  let photo;
  try {
    photo = await api("GET", `/light/photos/${photoId}/`);
  } catch (error) {
    say("Could not open the photo: " + error.message);
    return;
  }
  $("detail-name").textContent = photo.name;
  const image = $("detail-image");
  const web = photo.variants && photo.variants.web;
  image.hidden = !web;
  if (web) {
    image.src = web.url;
    image.alt = photo.description || photo.name;
  }
  const facts = [
    ["Captured", when(photo.captured_at)],
    ["Place", photo.location && photo.location.display_name ? photo.location.display_name : place(photo)],
    ["Status", progressOf(photo)],
    ["Job", photo.job ?? "none"],
    ["Tags", photo.tags.length ? photo.tags.join(", ") : "none"],
    ["Size", photo.width ? `${photo.width} × ${photo.height} px` : "unknown"],
    ["Uploaded", photo.uploaded_at ? new Date(photo.uploaded_at).toLocaleString() : "not yet"],
  ];
  if (photo.description) facts.splice(1, 0, ["Description", photo.description]);
  $("detail-facts").replaceChildren(...facts.flatMap(([term, value]) =>
    [element("dt", null, term), element("dd", null, String(value))]));
  const dialog = $("detail");
  dialog.addEventListener("close", () => opener.focus(), { once: true });
  dialog.showModal();
  $("close-detail").focus();
}

// --- Uploads -----------------------------------------------------------------

function uploadRow(file) {
  const row = element("li", "upload");
  const label = element("span", "file-name", file.name);
  const bar = element("progress");
  bar.max = file.size || 1;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${file.name}`);
  const note = element("span", "note", "Waiting");
  row.append(label, bar, note);
  $("uploads").prepend(row);
  return {
    row,
    progress(sent) { bar.value = sent; note.textContent = `${Math.floor(100 * sent / (file.size || 1))} %`; },
    note(text) { note.textContent = text; },
    done(text) { row.dataset.state = "done"; bar.value = bar.max; note.textContent = text; },
    fail(text) {
      row.dataset.state = "failed";
      note.textContent = "Failed: " + text;
      say(`Upload of ${file.name} failed: ${text}`);
    },
  };
}

function storeError(xhr) {
  const xml = xhr.responseXML || new DOMParser().parseFromString(xhr.responseText || "<x/>", "application/xml");
  const code = xml.querySelector("Code");
  const message = xml.querySelector("Message");
  const reason = [code && code.textContent, message && message.textContent].filter(Boolean).join(": ");
  return `the store refused the file (HTTP ${xhr.status}${reason ? ", " + reason : ""})`;
}

function send(method, url, body, onProgress, headers = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve(xhr) : reject(new Error(storeError(xhr))));
    xhr.onerror = () => reject(new Error("the store cannot be reached (network or CORS)"));
    xhr.send(body);
  });
}

function sendForm(policy, file, item) {
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
  form.append("file", file);  // last: the store ignores fields after the file
  return send("POST", policy.url, form, (sent) => item.progress(Math.min(sent, file.size)));
}

async function sendParts(photo, file, item) {
  const path = `/light/photos/${photo.id}/multipart/`;
  const upload = await api("POST", path, { size: file.size });
  const received = new Map();
  const total = () => [...received.values()].reduce((a, b) => a + b, 0);
  const numbers = Array.from({ length: upload.part_count }, (_, i) => i + 1);
  for (let start = 0; start < numbers.length; start += PARTS_PER_REQUEST) {
    const { parts } = await api("POST", `${path}parts/`, { part_numbers: numbers.slice(start, start + PARTS_PER_REQUEST) });
    for (const part of parts) {
      const from = (part.part_number - 1) * upload.part_size;
      const body = file.slice(from, from + part.size);
      for (let attempt = 1; ; attempt += 1) {  // a part that fails is sent again alone
        try {
          await send("PUT", part.url, body, (sent) => {
            received.set(part.part_number, sent);
            item.progress(total());
          }, part.headers);
          break;
        } catch (error) {
          if (attempt === PART_ATTEMPTS) throw error;
          item.note(`Part ${part.part_number} again (${error.message})`);
          await pause(1000 * attempt);
        }
      }
      received.set(part.part_number, part.size);
    }
  }
}

async function uploadFile(file, item) {
  try {
    item.note("Creating");
    const body = { name: file.name.slice(0, 150) || "Photo", is_video: file.type.startsWith("video/") };
    if (state.job) body.job = Number(state.job);
    if (state.tag) body.tags = [state.tag];
    const photo = await api("POST", "/light/photos/", body);
    if (file.size > MULTIPART_THRESHOLD) await sendParts(photo, file, item);
    else await sendForm(photo.upload_url, file, item);
    item.note("Finishing");
    const uploaded = await api("PUT", `/light/photos/${photo.id}/uploaded/`);
    item.done("Uploaded, making the thumbnail");
    say(`${file.name} uploaded.`);
    const tile = newTile(uploaded);
    $("grid").prepend(tile);
    watch(uploaded.id, tile, item);
  } catch (error) {
    item.fail(error.message);
  }
}

let watching = 0;

// Once every file of a batch is sent and settled, the page is read again: the
// new photos take their places in the list's order, and the count is right.
async function watch(photoId, tile, item) {
  watching += 1;
  try {
    await fillIn(photoId, tile, item);
  } finally {
    watching -= 1;
    if (!watching && !sending && !waiting.length) loadPage(state.page);
  }
}

async function fillIn(photoId, tile, item) {
  for (let attempt = 0; attempt < POLL_LIMIT; attempt += 1) {
    await pause(POLL_MS);
    let photo;
    try {
      photo = await api("GET", `/light/photos/${photoId}/`);
    } catch (error) {
      continue;  // a 429 or an outage: ask again
    }
    fillTile(tile, photo);
    const progress = progressOf(photo);
    if (progress.startsWith("failed")) {
      item.fail(progress.slice("failed: ".length));
      return;
    }
    if (thumbnailOf(photo) && progress === "processed") {
      item.done("Ready");
      say(`${photo.name} is ready.`);
      return;
    }
  }
  item.note("Still processing; reload later");
}

// A few files at a time: dozens dropped at once would spend the key's rate limit on
// creates and leave every transfer sharing the line.
const waiting = [];
let sending = 0;

function uploadAll(files) {
  for (const file of files) waiting.push([file, uploadRow(file)]);
  while (sending < PARALLEL_UPLOADS && waiting.length) {
    const [file, item] = waiting.shift();
    sending += 1;
    uploadFile(file, item).finally(() => {
      sending -= 1;
      uploadAll([]);
    });
  }
}

function wireDropZone() {
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    uploadAll(event.dataTransfer.files);
  });
  for (const id of ["pick-files", "take-photo"]) {
    $(id).addEventListener("change", (event) => {
      uploadAll(event.target.files);
      event.target.value = "";
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", useKey);
  $("forget-key").addEventListener("click", forgetKey);
  $("filters").addEventListener("submit", applyFilters);
  $("filters").addEventListener("reset", clearFilters);
  $("previous-page").addEventListener("click", () => loadPage(state.page - 1));
  $("next-page").addEventListener("click", () => loadPage(state.page + 1));
  $("close-detail").addEventListener("click", () => $("detail").close());
  wireDropZone();
  if (apiKey()) showDesk();
  else $("api-key").focus();
});
