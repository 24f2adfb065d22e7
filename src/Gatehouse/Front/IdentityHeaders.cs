using System.Buffers;
using System.Collections.Frozen;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Proxy;

namespace Gatehouse.Front;

/// <summary>
/// The headers that tell a backend who is calling (issue 5), under the names the route configured.
/// Every configured name is also removed from the client's request, so a client copy never
/// passes even when the gateway has no value for it (a certificate caller has no Basic user).
/// </summary>
internal sealed class IdentityHeaders
{
    private static readonly SearchValues<char> PrintableAscii = SearchValues.Create(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private readonly RouteHeadersConfig _names;

    /// <summary>Every configured name, made once: each plan shares it.</summary>
    private readonly FrozenSet<string> _removed;

    public IdentityHeaders(RouteHeadersConfig? names)
    {
        _names = names ?? new RouteHeadersConfig();
        string[] all = [_names.Principal, _names.Subject, _names.User, _names.ForwardedHost];
        _removed = all.Where(name => name.Length > 0).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    public void Apply(ForwardPlan plan, HttpExchange exchange, string? user)
    {
        plan.RemoveHeaders = _removed;
        var principal = exchange.Principal;
        Add(plan, _names.Principal, principal.HasKey ? principal.Pin : null);
        Add(plan, _names.Subject, principal.Subject.Length > 0 ? principal.Subject : null);
        Add(plan, _names.User, user);
        Add(plan, _names.ForwardedHost, exchange.Request.Host.Length > 0 ? exchange.Request.Host : null);
    }

    private static void Add(ForwardPlan plan, string name, string? value)
    {
        if (name.Length > 0 && value is not null)
        {
            plan.AddHeaders.Add(new(name, HeaderSafe(value)));
        }
    }

    /// <summary>Printable ASCII passes as is; anything else (a UTF-8 user or subject) is percent-encoded UTF-8.</summary>
    /// <remarks>A set rather than ContainsAnyExceptInRange(' ', '~'), which boxed both bounds on every call (seen in an allocation trace, issue 9).</remarks>
    private static string HeaderSafe(string value) =>
        value.AsSpan().ContainsAnyExcept(PrintableAscii) ? Uri.EscapeDataString(value) : value;
}
