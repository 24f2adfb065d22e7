using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Pairing;

/// <summary>
/// One step of the pairing exchange, sent as one JSON object on one line (see <see cref="PairingSession"/>).
/// Binary values (commitment, nonces) are base64.
/// </summary>
internal sealed class PairingMessage
{
    /// <summary>"commit", "nonce", "reveal", "opened", "confirm" or "abort".</summary>
    public string Step { get; set; } = string.Empty;

    /// <summary>The commitment (commit) or a nonce (nonce, reveal), base64.</summary>
    public string? Value { get; set; }

    /// <summary>The port the sender's gateway listens on, so the other side can record an address for its peer link.</summary>
    public int? Port { get; set; }

    /// <summary>The sender's device name (a hint for the name the other side records; never trusted for anything else).</summary>
    public string? Name { get; set; }

    /// <summary>confirm: whether the person on the sending side confirmed the code.</summary>
    public bool? Ok { get; set; }

    /// <summary>abort: why, for the other side's message.</summary>
    public string? Reason { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PairingMessage))]
internal sealed partial class PairingJsonContext : JsonSerializerContext
{
    public static PairingMessage Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, Default.PairingMessage) ?? throw new PairingException("the other side sent null");
        }
        catch (JsonException ex)
        {
            throw new PairingException("the other side sent a malformed message: " + ex.Message, ex);
        }
    }
}
