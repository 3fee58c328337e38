// Uploads a file from this page to S3 four ways. Plain browser JavaScript, no build step.
//
// Every request goes to another origin (the API, S3, CloudFront), so the browser sends a CORS
// preflight first whenever the request is not "simple" (a PUT, a custom header such as
// Authorization or x-amz-checksum-sha256, a JSON body), and lets this page read an answer only
// when it carries Access-Control-Allow-Origin for this page. Where the settings are missing, the
// request fails here with status 0 and the reason is only in the browser's console.
//
// config.json (served beside this file by the notebook) says where to send things:
//   {"presignApi": "<option 2 API>", "multipartApi": "<upload API of notebook 03>",
//    "cloudfront": {"url": "<distribution>", "authorization": "<the edge function's secret>"}}

"use strict";

const $ = (id) => document.getElementById(id);
let config = {};

function log(text) {
  $("log").textContent += text + "\n";
}

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function progress(done, total) {
  $("progress").max = total || 1;
  $("progress").value = done;
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

// The whole blob is read into memory to hash it: fine for the sizes a demo page takes (a real
// uploader would hash parts as it sends them, as the multipart route does).
async function sha256(blob) {
  return crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
}

// XMLHttpRequest rather than fetch(): only XHR reports upload progress.
function send(method, url, body, headers, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress && onProgress(event.loaded);
    // status 0: the browser refused the request or its answer (CORS), or the network failed.
    xhr.onload = () => resolve({status: xhr.status, text: xhr.responseText, header: (n) => xhr.getResponseHeader(n)});
    xhr.onerror = () => resolve({status: 0, text: "", header: () => null});
    xhr.send(body);
  });
}

async function api(method, url, payload) {
  const answer = await send(method, url, payload === undefined ? null : JSON.stringify(payload),
                            payload === undefined ? {} : {"Content-Type": "application/json"});
  if (answer.status === 0) throw new Error(`the browser refused ${method} ${url.split("?")[0]}: see the console (CORS?)`);
  const body = answer.text ? JSON.parse(answer.text) : {};
  if (answer.status >= 400) throw new Error(`${answer.status} from the API: ${body.message || answer.text}`);
  return body;
}

function refused(answer, what) {
  if (answer.status === 0) return new Error(`the browser refused ${what}: see the console (CORS?)`);
  const code = (answer.text.match(/<Code>([^<]*)<\/Code>/) || [])[1];
  return new Error(`${answer.status} ${code || answer.text.slice(0, 120)} for ${what}`);
}

// Option 2: the API signs a PUT URL (Content-Type is signed into it), the page PUTs the file.
async function presigned(file) {
  const type = file.type || "application/octet-stream";
  const grant = await api("GET", `${config.presignApi}/upload/${encodeURIComponent(file.name)}?contentType=${encodeURIComponent(type)}`);
  const answer = await send("PUT", grant.url, file, grant.headers, (n) => progress(n, file.size));
  if (answer.status !== 200) throw refused(answer, "the presigned PUT");
  return grant.key;
}

// Notebook 03's size-limited presigned POST: a form, no preflight (a "simple" request).
async function post(file) {
  const form = await api("POST", `${config.multipartApi}/uploads/form`, {filename: file.name});
  const data = new FormData();
  for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
  data.append("file", file);  // the file comes last: S3 ignores fields after it
  const answer = await send("POST", form.url, data, {}, (n) => progress(n, file.size));
  if (answer.status !== 204) throw refused(answer, "the presigned POST");
  return form.fields.key;
}

// Multipart: parts hashed here, signed URLs from the API, parts sent in parallel, each part's
// ETag read from its answer (only possible when the bucket's CORS rule exposes ETag).
async function multipart(file) {
  const type = file.type || "application/octet-stream";
  const started = await api("POST", `${config.multipartApi}/uploads`, {filename: file.name, size: file.size, contentType: type});
  const base = `${config.multipartApi}/uploads/${encodeURIComponent(started.uploadId)}`;
  const parts = [];
  for (let n = 1; n <= started.partCount; n++) {
    const blob = file.slice((n - 1) * started.partSize, n * started.partSize);
    parts.push({partNumber: n, blob, checksumSHA256: base64(await sha256(blob))});
  }
  const signed = await api("POST", `${base}/parts`, {key: started.key, parts: parts.map(
    (p) => ({partNumber: p.partNumber, checksumSHA256: p.checksumSHA256}))});
  const sent = new Array(parts.length).fill(0);
  const queue = signed.parts.slice();
  const etags = {};
  async function worker() {
    while (queue.length) {
      const grant = queue.shift();
      const part = parts[grant.partNumber - 1];
      const answer = await send("PUT", grant.url, part.blob, grant.headers, (n) => {
        sent[grant.partNumber - 1] = n;
        progress(sent.reduce((a, b) => a + b, 0), file.size);
      });
      if (answer.status !== 200) throw refused(answer, `part ${grant.partNumber}`);
      const etag = answer.header("ETag");
      if (!etag) throw new Error(`part ${grant.partNumber} is stored, but its ETag is not readable: ` +
                                 "the bucket's CORS rule must list ETag in ExposeHeaders");
      etags[grant.partNumber] = etag;
    }
  }
  try {
    await Promise.all([1, 2, 3, 4].map(worker));
  } catch (error) {
    await api("DELETE", `${base}?key=${encodeURIComponent(started.key)}`).catch(() => null);
    log(`aborted upload ${started.uploadId}: S3 drops its parts`);
    throw error;
  }
  await api("POST", `${base}/complete`, {key: started.key, parts: parts.map(
    (p) => ({partNumber: p.partNumber, etag: etags[p.partNumber], checksumSHA256: p.checksumSHA256}))});
  return started.key;
}

// Option 3: PUT to CloudFront with the edge function's credential in Authorization.
async function cloudfront(file) {
  const key = `uploads/${file.name}`;
  const answer = await send("PUT", `${config.cloudfront.url}/${key.split("/").map(encodeURIComponent).join("/")}`, file,
                            {"Authorization": config.cloudfront.authorization,
                             "Content-Type": file.type || "application/octet-stream"},
                            (n) => progress(n, file.size));
  if (answer.status !== 200) throw refused(answer, "the PUT through CloudFront");
  return key;
}

const ROUTES = {presigned, post, multipart, cloudfront};

function addResult(route, state, key, bytes, digest) {
  const row = document.createElement("tr");
  row.className = state;
  row.dataset.route = route;
  row.dataset.state = state;
  for (const text of [route, state, key, bytes, digest]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.appendChild(cell);
  }
  $("results").appendChild(row);
}

async function upload(route) {
  const file = $("file").files[0];
  if (!file) {
    setStatus("idle", "Choose a file first.");
    return;
  }
  setStatus("busy", `Uploading ${file.name} (${file.size.toLocaleString()} bytes) by ${route}...`);
  progress(0, file.size);
  const digest = hex(await sha256(file));
  try {
    const key = await ROUTES[route](file);
    progress(file.size, file.size);
    setStatus("done", `${route}: stored as ${key}`);
    log(`${route}: ${file.name} stored as ${key}`);
    addResult(route, "done", key, file.size, digest);
  } catch (error) {
    setStatus("failed", `${route}: ${error.message}`);
    log(`${route}: FAILED: ${error.message}`);
    addResult(route, "failed", error.message, file.size, digest);
  }
}

async function main() {
  $("origin").textContent = location.origin;
  config = await (await fetch("config.json")).json();
  for (const button of document.querySelectorAll("button[data-route]")) {
    button.addEventListener("click", () => upload(button.dataset.route));
  }
  setStatus("ready", "Choose a file, then a route.");
}

main();
