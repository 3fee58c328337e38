// The AWS SDK for JavaScript v3, unmodified, as a client of the local AWS.
// Usage: node run.mjs <action> <endpoint> <bucket> <key> <file>
// Prints one JSON line with what the action saw; tests/clients/test_js_sdk.py reads it back with boto3.
import { createReadStream, readFileSync, statSync } from "node:fs";
import {
  S3Client, PutObjectCommand, GetObjectCommand, CreateMultipartUploadCommand,
  UploadPartCommand, CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

const [action, endpoint, bucket, key, file] = process.argv.slice(2);
const client = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const PART = 5 * 1024 * 1024;

const actions = {
  // PutObject with the whole body in memory (the SDK's default CRC32 checksum in a header).
  async putBuffer() {
    const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
    return { etag: out.ETag, crc32: out.ChecksumCRC32 };
  },
  // PutObject from a stream: aws-chunked encoding with the checksum in a trailer.
  async putStream() {
    const out = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: statSync(file).size,
    }));
    return { etag: out.ETag, crc32: out.ChecksumCRC32 };
  },
  // lib-storage's managed upload: multipart above 5 MiB, 4 parts at a time.
  async upload() {
    const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file) } });
    const out = await upload.done();
    return { etag: out.ETag };
  },
  async presignedPut() {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
    const response = await fetch(url, { method: "PUT", body: readFileSync(file) });
    return { url, status: response.status, etag: response.headers.get("etag"), body: await response.text() };
  },
  async presignedGet() {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
    const response = await fetch(url);
    const bytes = Buffer.from(await response.arrayBuffer());
    return { url, status: response.status, same: bytes.equals(readFileSync(file)) };
  },
  async presignedPost() {
    const { url, fields } = await createPresignedPost(client, {
      Bucket: bucket, Key: key, Conditions: [["content-length-range", 0, 100 * 1024 * 1024]],
      Fields: { "Content-Type": "application/octet-stream" }, Expires: 600,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob([readFileSync(file)]), "upload.bin");
    const response = await fetch(url, { method: "POST", body: form });
    return { status: response.status, etag: response.headers.get("etag"), body: await response.text(),
             fields: Object.keys(fields) };
  },
  // A multipart upload whose parts go to presigned UploadPart URLs (what a browser would do).
  async presignedParts() {
    const data = readFileSync(file);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = [];
    for (let start = 0, number = 1; start < data.length; start += PART, number += 1) {
      const url = await getSignedUrl(client, new UploadPartCommand({
        Bucket: bucket, Key: key, UploadId, PartNumber: number }), { expiresIn: 600 });
      const response = await fetch(url, { method: "PUT", body: data.subarray(start, start + PART) });
      if (response.status !== 200) return { status: response.status, body: await response.text(), part: number };
      parts.push({ PartNumber: number, ETag: response.headers.get("etag") });
    }
    const out = await client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    return { status: 200, etag: out.ETag, parts: parts.length };
  },
};

try {
  console.log(JSON.stringify(await actions[action]()));
} catch (error) {
  console.log(JSON.stringify({ error: error.name, message: error.message,
                               status: error.$metadata?.httpStatusCode }));
  process.exitCode = 1;
}
