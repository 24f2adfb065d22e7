using System.Globalization;
using System.Net;
using System.Text;

namespace Gatehouse.Observability;

/// <summary>
/// The status as one self-contained HTML page (issue 19 item 5): what a person checks when a
/// device cannot get in. Every value is HTML-encoded (a refusal's path and reason come from the
/// network).
/// </summary>
internal static class StatusPage
{
    public static byte[] Render(GatehouseStatus status)
    {
        var html = new StringBuilder(4096);
        html.Append("""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gatehouse status</title>
            <style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}
            h2{font-size:1.1em;margin-top:1.6em}table{border-collapse:collapse}td,th{border:1px solid #ccc;
            padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f2f2f2}code{font-size:.95em}
            .down{color:#b00;font-weight:bold}.up{color:#070}.empty{color:#777}</style></head><body>
            <h1>Gatehouse</h1>
            """);
        Line(html, "Server key pin", Code(status.Pin));
        Line(html, "Started", Time(status.StartedAt));
        if (status.LastReload is { } reload)
        {
            Line(html, "Last reload", Time(reload.Time) + (reload.Succeeded ? " — applied" : " — refused: " + Encode(reload.Error ?? string.Empty))
                + $", {reload.RevokedConnections.ToString(CultureInfo.InvariantCulture)} connection(s) closed");
        }
        else
        {
            Line(html, "Last reload", "none since start");
        }

        Table(html, "Listeners", ["address", "port", "TLS"], status.Listeners.Select(l => new[] { Encode(l.Address), Number(l.Port), l.Tls ? "yes" : "no (loopback)" }));
        Table(html, $"Connected now ({Number(status.OpenConnections)})", ["principal", "connections"],
            status.ConnectionsByPrincipal.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new[] { Code(p.Key), Number(p.Value) }));
        Table(html, "Routes and who may use them", ["route", "kind", "grants"],
            status.Routes.Select(r => new[] { Code(r.Prefix), Encode(r.Kind), r.Grants.Count == 0 ? "<span class=\"empty\">nobody</span>" : string.Join("<br>", r.Grants.Select(Encode)) }));
        Table(html, "Upstreams", ["upstream", "state", "in use", "idle"],
            Proxy.ProxyMetrics.NodeStates().Select(n => new[] { Encode(n.Upstream), n.Up ? "<span class=\"up\">up</span>" : "<span class=\"down\">down</span>", Number(n.InUse), Number(n.Idle) }));
        if (status.Discovery is { } discovery)
        {
            // Issue 21: what the local link shows now; only a paired one (a pin in the peer table) is ever dialled.
            Table(html, $"On the local link (announcing as {discovery.Name}{(discovery.Announcing ? string.Empty : ", not announcing")})", ["name", "pin", "addresses", "last seen", "paired as"],
                discovery.Seen.Select(g => new[] { Encode(g.Name), Code(g.Pin), string.Join("<br>", g.Addresses.Select(Code)), Time(g.LastSeen), g.Peer is null ? "<span class=\"empty\">not paired</span>" : Code(g.Peer) }));
        }

        Table(html, "Recent refusals (newest first)", ["time", "principal", "request", "status", "reason"],
            status.Refusals.Select(r => new[] { Time(r.Time), Code(r.Principal), Encode(r.Method) + " " + Code(r.Path), Number(r.Status), Encode(r.Reason) }));
        html.Append("<p class=\"empty\">The same as JSON: <code>/_gatehouse/status</code>. In a terminal: <code>gatehouse status --config FILE</code>.</p></body></html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    private static void Line(StringBuilder html, string name, string valueHtml) =>
        html.Append("<p><b>").Append(Encode(name)).Append(":</b> ").Append(valueHtml).Append("</p>\n");

    private static void Table(StringBuilder html, string title, string[] headers, IEnumerable<string[]> rows)
    {
        html.Append("<h2>").Append(Encode(title)).Append("</h2>\n");
        var list = rows.ToList();
        if (list.Count == 0)
        {
            html.Append("<p class=\"empty\">none</p>\n");
            return;
        }

        html.Append("<table><tr>");
        foreach (var header in headers)
        {
            html.Append("<th>").Append(Encode(header)).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var row in list)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append("<td>").Append(cell).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Code(string text) => "<code>" + Encode(text) + "</code>";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
