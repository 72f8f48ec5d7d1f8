// The console's gRPC-Web client: protobuf.js (vendored) builds the message types from the
// contract's .proto files, served by the binary itself; fetch carries unary and server-streaming
// calls to the same service stack gRPC clients reach, with the user's token as metadata.

const protobuf = globalThis.protobuf;

/** The contract's files, in dependency order. */
const PROTO_FILES = ["common.proto", "catalog.proto", "match.proto", "hold.proto", "drill.proto"];

/** The error details the server attaches (google/rpc/error_details.proto, the parts we use). */
const RPC_PROTO = `syntax = "proto3";
package google.protobuf;
message Any { string type_url = 1; bytes value = 2; }`;
const RPC_DETAILS_PROTO = `syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
message BadRequest {
  message FieldViolation { string field = 1; string description = 2; }
  repeated FieldViolation field_violations = 1;
}
message PreconditionFailure {
  message Violation { string type = 1; string subject = 2; string description = 3; }
  repeated Violation violations = 1;
}
message ResourceInfo { string resource_type = 1; string resource_name = 2; string owner = 3; string description = 4; }`;

/** The largest response the client buffers (bytes): the server's own response limit. */
const RESPONSE_BYTES_MAX = 32 * 1024 * 1024;

/** gRPC status codes by number, for messages. */
export const CODE_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
  "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
  "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
  "UNAUTHENTICATED"];

/** A failed call: the gRPC code, message and the decoded details. */
export class RpcError extends Error {
  constructor(code, message, details) {
    super(message || CODE_NAMES[code] || `status ${code}`);
    this.code = code;
    this.codeName = CODE_NAMES[code] || String(code);
    /** [{field, description}] from google.rpc.BadRequest. */
    this.fieldViolations = details.fieldViolations;
    /** [{type, subject, description}] from google.rpc.PreconditionFailure. */
    this.preconditionViolations = details.preconditionViolations;
  }
}

let rootPromise = null;

/** Loads and parses the contract once. */
export function loadRoot() {
  if (!rootPromise) {
    rootPromise = (async () => {
      const root = new protobuf.Root();
      protobuf.parse(RPC_PROTO, root, { keepCase: true });
      protobuf.parse(RPC_DETAILS_PROTO, root, { keepCase: true });
      for (const file of PROTO_FILES) {
        const response = await fetch(`/assets/proto/${file}`);
        if (!response.ok) throw new Error(`cannot load ${file}: HTTP ${response.status}`);
        protobuf.parse(await response.text(), root, { keepCase: true });
      }
      root.resolveAll();
      return root;
    })();
  }
  return rootPromise;
}

/** The names of a contract enum's values, in number order, without the UNSPECIFIED one. */
export async function enumNames(fullName) {
  const values = (await loadRoot()).lookupEnum(fullName).values;
  return Object.entries(values).filter(([, n]) => n !== 0).sort((a, b) => a[1] - b[1]).map(([k]) => k);
}

/** The metadata every call carries: the user's bearer token, when one is set. */
function metadata() {
  const headers = {
    "content-type": "application/grpc-web+proto",
    "accept": "application/grpc-web+proto",
    "x-grpc-web": "1",
  };
  const token = sessionStorage.getItem("equipmatch.token");
  if (token) headers["authorization"] = `Bearer ${token}`;
  const caller = sessionStorage.getItem("equipmatch.caller");
  if (caller) headers["x-equipmatch-caller"] = caller;
  return headers;
}

function frame(bytes) {
  const out = new Uint8Array(5 + bytes.length);
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

function base64Bytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(padded + "===".slice((padded.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function parseTrailers(bytes) {
  const trailers = {};
  for (const line of new TextDecoder().decode(bytes).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return trailers;
}

function decodeDetails(root, encoded) {
  const details = { fieldViolations: [], preconditionViolations: [] };
  if (!encoded) return details;
  const status = root.lookupType("google.rpc.Status").decode(base64Bytes(encoded));
  for (const any of status.details) {
    const name = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    if (name === "google.rpc.BadRequest") {
      const bad = root.lookupType("google.rpc.BadRequest").decode(any.value);
      details.fieldViolations.push(...bad.field_violations.map((v) => ({ field: v.field, description: v.description })));
    } else if (name === "google.rpc.PreconditionFailure") {
      const failure = root.lookupType("google.rpc.PreconditionFailure").decode(any.value);
      details.preconditionViolations.push(...failure.violations.map((v) => ({ type: v.type, subject: v.subject, description: v.description })));
    }
  }
  return details;
}

function statusError(root, source) {
  const code = Number(source["grpc-status"]);
  if (!code) return null;
  let message = source["grpc-message"] || "";
  try { message = decodeURIComponent(message); } catch { /* keep it as sent */ }
  return new RpcError(code, message, decodeDetails(root, source["grpc-status-details-bin"]));
}

const TO_OBJECT = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };

/**
 * Calls `service/method` (e.g. "equipmatch.v1.MatchService", "Match") with `request` (a plain
 * object, proto field names) and hands every response message to `onMessage` as a plain object.
 * Resolves when the stream ends with status OK; rejects with an RpcError otherwise.
 */
export async function call(service, method, request, onMessage, { signal } = {}) {
  const root = await loadRoot();
  const serviceType = root.lookupService(service);
  const rpc = serviceType.methods[method];
  if (!rpc) throw new Error(`no method ${service}/${method}`);
  const requestType = root.lookupType(rpc.resolvedRequestType.fullName);
  const responseType = root.lookupType(rpc.resolvedResponseType.fullName);
  const body = frame(requestType.encode(requestType.fromObject(request)).finish());
  const response = await fetch(`/${service}/${method}`, { method: "POST", headers: metadata(), body, signal });
  const headerStatus = {};
  response.headers.forEach((value, key) => { headerStatus[key] = value; });
  if (!response.ok) {
    throw statusError(root, headerStatus) || new RpcError(14, `HTTP ${response.status}`, decodeDetails(root, null));
  }
  const early = statusError(root, headerStatus);
  if (early) throw early;
  const reader = response.body.getReader();
  let buffer = new Uint8Array(0);
  let trailers = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) {
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer);
      joined.set(value, buffer.length);
      buffer = joined;
      if (buffer.length > RESPONSE_BYTES_MAX) throw new RpcError(8, "response too large", decodeDetails(root, null));
    }
    // Hand out every complete frame in the buffer.
    while (buffer.length >= 5) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(1);
      if (buffer.length < 5 + length) break;
      const flag = buffer[0];
      const payload = buffer.slice(5, 5 + length);
      buffer = buffer.slice(5 + length);
      if (flag & 0x80) trailers = parseTrailers(payload);
      else onMessage(responseType.toObject(responseType.decode(payload), TO_OBJECT));
    }
    if (done) break;
  }
  const status = trailers || headerStatus;
  if (status["grpc-status"] === undefined) throw new RpcError(13, "the stream ended without a status", decodeDetails(root, null));
  const error = statusError(root, status);
  if (error) throw error;
}

/** A unary call: resolves with the one response message. */
export async function unary(service, method, request) {
  let message = null;
  await call(service, method, request, (m) => { message = m; });
  return message;
}
