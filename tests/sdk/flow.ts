// The photo flow with the types openapi-typescript generates from /openapi.json
// (tests/test_sdk.py compiles it with tsc --strict, then runs it with node).
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
type Created = operations["createPhoto"]["responses"][201]["content"]["application/json"];
type Finalized = operations["finalizePhotoUpload"]["responses"][200]["content"]["application/json"];

declare const process: { argv: string[] };  // node's, without @types/node
const [baseUrl, apiKey] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" };
const steps: string[] = [];

async function call<T>(method: string, path: string, body?: unknown): Promise<[number, T]> {
  const response = await fetch(baseUrl + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [response.status, (await response.json()) as T];
}

const photo: Schemas["PhotoCreate"] = { name: "Front roof damage", tags: ["hail"], exif: { timestamp: 1732790400000 },
  is_video: false };  // openapi-typescript makes fields with a default required
// upload_url is documented as the policy or null (a nullable object beside the $ref).
function isPolicy(value: unknown): value is Schemas["UploadPolicy"] {
  return typeof value === "object" && value !== null && "url" in value && "fields" in value;
}

const [createdStatus, created] = await call<Created>("POST", "/light/photos/", photo);
if (createdStatus !== 201 || !isPolicy(created.upload_url)) throw new Error(`create: ${createdStatus}`);
steps.push("create");

const policy: Schemas["UploadPolicy"] = created.upload_url;
const form = new FormData();
for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
form.append("file", new Blob([new Uint8Array([0xff, 0xd8, 0xff, ...new Array(100).fill(48)])]), "photo.jpg");
const stored = await fetch(policy.url, { method: "POST", body: form });
if (stored.status !== 204) throw new Error(`upload: ${stored.status}`);
steps.push("upload");

const [finalizedStatus, finalized] = await call<Finalized>("PUT", `/light/photos/${created.id}/uploaded/`);
if (finalizedStatus !== 200 || finalized.status !== "uploaded") throw new Error(`finalize: ${finalizedStatus}`);
steps.push("finalize");

const [, detail] = await call<Schemas["PhotoDetail"]>("GET", `/light/photos/${created.id}/`);
if (detail.id !== created.id || !detail.download_url) throw new Error("get");
steps.push("get");

const [, page] = await call<Schemas["PhotoPage"]>("GET", "/light/photos/");
if (page.results.map((p) => p.id).join() !== String(created.id)) throw new Error("list");
steps.push("list");

const [refusedStatus, refused] = await call<Schemas["Error"]>("POST", "/light/photos/", { name: "x", exif: { note: "a\u0000b" } });
if (refusedStatus !== 400 || refused.code !== 400 || !refused.errors?.["exif"]) throw new Error("400");
steps.push("400");

// A resumed upload: the first of two parts, the parts the store holds, the rest, finalize.
const [, video] = await call<Created>("POST", "/light/photos/", { ...photo, name: "Walkaround.jpg" });
const file = new Uint8Array(8 * 1024 * 1024 + 1000).fill(48);
file.set([0xff, 0xd8, 0xff]);
const multipart = `/light/photos/${video.id}/multipart/`;
const [startedStatus, started] = await call<Schemas["MultipartUpload"]>("POST", multipart, { size: file.length });
if (startedStatus !== 201 || started.part_count !== 2) throw new Error(`start: ${startedStatus}`);
async function sendParts(numbers: number[]): Promise<void> {
  const [, urls] = await call<Schemas["PartUrls"]>("POST", multipart + "parts/", { part_numbers: numbers });
  for (const part of urls.parts) {
    const offset = (part.part_number - 1) * started.part_size;
    const sent = await fetch(part.url, { method: "PUT", headers: part.headers,
      body: file.slice(offset, offset + part.size) });
    if (sent.status !== 200) throw new Error(`part ${part.part_number}: ${sent.status}`);
  }
}
await sendParts([1]);
const [, status] = await call<Schemas["MultipartStatus"]>("GET", multipart);
const received = new Set(status.received.map((part) => part.part_number));
await sendParts([1, 2].filter((number) => !received.has(number)));
const [resumedStatus, resumed] = await call<Finalized>("PUT", `/light/photos/${video.id}/uploaded/`);
if (resumedStatus !== 200 || resumed.size !== file.length) throw new Error(`resumed: ${resumedStatus}`);
steps.push("resumed");

console.log(steps.join(" "));
