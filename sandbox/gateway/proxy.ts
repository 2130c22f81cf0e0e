/**
 * Forwards an AWS call the gateway does not answer itself to moto unchanged — method, path, query,
 * headers, body — and streams moto's answer back with its status and headers (Content-Type included).
 */

/** Hop-by-hop headers that belong to one connection, not to the request. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"];

export async function proxyToMoto(
  req: Request,
  url: URL,
  motoUrl: string,
  body: ArrayBuffer | undefined,
): Promise<Response> {
  const headers = new Headers(req.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  // An uncompressed answer can be streamed through without re-encoding.
  headers.delete("accept-encoding");
  const upstream = await fetch(`${motoUrl}${url.pathname}${url.search}`, {
    method: req.method,
    headers,
    body: body && body.byteLength > 0 ? body : undefined,
    redirect: "manual",
  });
  const responseHeaders = new Headers(upstream.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  responseHeaders.delete("content-encoding");
  return new Response(req.method === "HEAD" ? null : upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}
