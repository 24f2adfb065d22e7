using System.Buffers;
using System.Text.Json;
using Gatehouse.Http1;
using Gatehouse.Policy;
using Gatehouse.Wire;

namespace Gatehouse.Observability;

/// <summary>
/// <c>GET /_gatehouse/status</c> (issue 7): the listeners, the last reload's time and result, the
/// open connections per principal, the routes and who may use them, the last refusals — and the
/// same as an HTML page at <c>/_gatehouse/</c> (issue 19) — for the local user and
/// <c>"admin": true</c> principals only, like the metrics: who is connected is nobody else's business.
/// </summary>
internal static class StatusEndpoint
{
    public const string Path = "/_gatehouse/status";


    /// <summary>Supplies the status; set by <see cref="GatehouseServer"/> once it exists.</summary>
    public delegate GatehouseStatus Source();

    /// <summary>The same, as a page for people (issue 19 item 5).</summary>
    public const string PagePath = "/_gatehouse/";

    public static bool Matches(Request request) =>
        !request.Target.IsAsterisk && (request.Target.PathEquals(Path) || request.Target.PathEquals(PagePath));

    /// <summary>Answers; returns the refusal reason for the access log, or null when served.</summary>
    /// <param name="rules">The rules in force, which say who is an admin (reloadable, issue 7).</param>
    public static async Task<string?> HandleAsync(HttpExchange exchange, ConfigPolicy rules, Source? source, CancellationToken stopping)
    {
        if (!rules.IsAdmin(exchange.Principal))
        {
            const string reason = "status is for the local user and admin principals";
            await exchange.Response.SendErrorAsync(403, reason, stopping).ConfigureAwait(false);
            return reason;
        }

        if (exchange.Request.Method is not (HttpMethods.Get or HttpMethods.Head) || source is null)
        {
            exchange.Response.Headers.Set("Allow", "GET, HEAD");
            await exchange.Response.SendErrorAsync(405, "use GET", stopping).ConfigureAwait(false);
            return "use GET";
        }

        exchange.Response.Headers.Set("Cache-Control", "no-store");
        if (exchange.Request.Target.PathEquals(PagePath))
        {
            // Self-contained: no script, no outside asset, nothing the page could be made to load.
            exchange.Response.Headers.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
            await exchange.Response.SendAsync(200, "text/html; charset=utf-8", StatusPage.Render(source()), stopping).ConfigureAwait(false);
            return null;
        }

        await exchange.Response.SendAsync(200, "application/json", Render(source()), stopping).ConfigureAwait(false);
        return null;
    }

    internal static byte[] Render(GatehouseStatus status)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("pin", status.Pin);
            json.WriteString("startedAt", status.StartedAt);
            json.WriteStartArray("listen");
            foreach (var listener in status.Listeners)
            {
                json.WriteStartObject();
                json.WriteString("address", listener.Address);
                json.WriteNumber("port", listener.Port);
                json.WriteBoolean("tls", listener.Tls);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (status.LastReload is { } reload)
            {
                json.WriteStartObject("lastReload");
                json.WriteString("time", reload.Time);
                json.WriteBoolean("succeeded", reload.Succeeded);
                if (reload.Error is { } error)
                {
                    json.WriteString("error", error);
                }

                json.WriteNumber("revokedConnections", reload.RevokedConnections);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("lastReload");
            }

            // Nodes a failed connect took out stay skipped for nodeRetryAfter, then traffic tries them again.
            json.WriteStartArray("upstreams");
            foreach (var node in Proxy.ProxyMetrics.NodeStates())
            {
                json.WriteStartObject();
                json.WriteString("upstream", node.Upstream);
                json.WriteString("state", node.Up ? "up" : "down");
                json.WriteNumber("inUse", node.InUse);
                json.WriteNumber("idle", node.Idle);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("connections");
            json.WriteNumber("open", status.OpenConnections);
            json.WriteStartObject("byPrincipal");
            foreach (var (principal, count) in status.ConnectionsByPrincipal.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(principal, count);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartArray("routes");
            foreach (var route in status.Routes)
            {
                json.WriteStartObject();
                json.WriteString("kind", route.Kind);
                json.WriteString("prefix", route.Prefix);
                json.WriteString("name", route.Name);
                json.WriteStartArray("grants");
                foreach (var grant in route.Grants)
                {
                    json.WriteStringValue(grant);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("refusals");
            foreach (var refusal in status.Refusals)
            {
                json.WriteStartObject();
                json.WriteString("time", refusal.Time);
                json.WriteString("principal", refusal.Principal);
                json.WriteString("method", refusal.Method);
                json.WriteString("path", refusal.Path);
                json.WriteNumber("status", refusal.Status);
                json.WriteString("reason", refusal.Reason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteDiscovery(json, status.Discovery);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Issue 21: names and pins here come from the network; the writer escapes them like any string.</summary>
    private static void WriteDiscovery(Utf8JsonWriter json, DiscoveryStatus? discovery)
    {
        if (discovery is null)
        {
            json.WriteNull("discovery");
            return;
        }

        json.WriteStartObject("discovery");
        json.WriteString("name", discovery.Name);
        json.WriteBoolean("announcing", discovery.Announcing);
        if (discovery.Error is { } error)
        {
            json.WriteString("error", error);
        }

        json.WriteStartArray("interfaces");
        foreach (var name in discovery.Interfaces)
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteNumber("dropped", discovery.Dropped);
        json.WriteStartArray("seen");
        foreach (var seen in discovery.Seen)
        {
            json.WriteStartObject();
            json.WriteString("name", seen.Name);
            json.WriteString("pin", seen.Pin);
            json.WriteStartArray("addresses");
            foreach (var address in seen.Addresses)
            {
                json.WriteStringValue(address);
            }

            json.WriteEndArray();
            json.WriteString("lastSeen", seen.LastSeen);
            json.WriteBoolean("paired", seen.Peer is not null);
            if (seen.Peer is { } peer)
            {
                json.WriteString("peer", peer);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
