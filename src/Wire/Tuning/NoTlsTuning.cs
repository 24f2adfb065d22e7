using System.Net.Security;

namespace Gatehouse.Wire.Tuning;

/// <summary>Tuning switched off: streams are left as .NET makes them, with an SSL_CTX per connection where client certificates are asked for.</summary>
internal sealed class NoTlsTuning : ITlsTuning
{
    public static NoTlsTuning Instance { get; } = new();

    private NoTlsTuning()
    {
    }

    public string Summary => "off: SslStream and OpenSSL as .NET leaves them";

    public bool CanShareContexts => false;

    public void TuneAdmitted(SslStream stream)
    {
    }

    public void TuneRefused(SslStream stream)
    {
    }

    public void TrimIdle(SslStream stream)
    {
    }
}
