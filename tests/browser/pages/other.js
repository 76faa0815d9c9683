// A page on another origin calling the API with fetch, as an integrator's web app would.
// The test passes the API's address and a key in the fragment (never sent to a server).
"use strict";

const given = new URLSearchParams(location.hash.slice(1));
const API = given.get("api");
const KEY = given.get("key");

function report(state, text) {
  const result = document.getElementById("result");
  result.dataset.state = state;
  result.textContent = text;
}

async function call(method, path, body) {
  const response = await fetch(API + path, {
    method,
    headers: { "X-API-KEY": KEY, "Content-Type": "application/json", "X-Request-ID": "other-origin.1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${data.message}`);
  return [data, response];
}

async function list() {
  try {
    const [page, response] = await call("GET", "/light/photos/");
    report("listed", `${page.count} photos, request ${response.headers.get("X-Request-ID")}`);
  } catch (error) {
    report("refused", `${error.name}: ${error.message}`);
  }
}

async function upload(file) {
  try {
    report("uploading", "creating");
    const [photo] = await call("POST", "/light/photos/", { name: file.name });
    const form = new FormData();
    for (const [name, value] of Object.entries(photo.upload_url.fields)) form.append(name, value);
    form.append("file", file);
    const stored = await fetch(photo.upload_url.url, { method: "POST", body: form });
    if (!stored.ok) throw new Error(`store ${stored.status}`);
    await call("PUT", `/light/photos/${photo.id}/uploaded/`);
    for (;;) {
      const [current] = await call("GET", `/light/photos/${photo.id}/`);
      if (current.variants && current.variants.thumbnail) {
        const image = document.getElementById("thumbnail");
        image.onload = () => report("done", `photo ${photo.id}`);
        image.src = current.variants.thumbnail.url;
        image.hidden = false;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    report("failed", `${error.name}: ${error.message}`);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (new URLSearchParams(location.search).get("mode") === "list") list();
  document.getElementById("file").addEventListener("change", (event) => upload(event.target.files[0]));
});
