using System.Buffers;
using System.Text.Json;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// Reads a CouchDB write body as it streams past, piece by piece, and refuses it (throws
/// <see cref="RequestRejectedException"/>) the moment it names a design document, or when it is not
/// one valid JSON object (issue 17 item 2). Only what decides the id is looked at: the top-level
/// <c>_id</c> of a document body, or the <c>_id</c> of each object in a top-level <c>docs</c> array.
/// </summary>
/// <remarks>
/// Readers disagree on duplicates (CouchDB's jiffy keeps every pair, JavaScript keeps the last), so
/// every <c>_id</c> and every <c>docs</c> is judged: any design id refuses the body. Names and values
/// are compared unescaped, so <c>"\u005fdesign/x"</c> is <c>_design/x</c>.
/// <para>
/// <see cref="Utf8JsonReader"/> needs each token whole. A token cut by a piece boundary is carried
/// into a pooled buffer, and parsing resumes only once that holds twice what failed, so a long string
/// costs linear time; a single token longer than <see cref="MaxTokenBytes"/> (an inline base64
/// attachment, in practice) is refused with 413. Memory per body is that bound, not the body's size.
/// </para>
/// </remarks>
public sealed class DesignDocumentScanner : IDisposable
{
    /// <summary>Default bound on one JSON token held while it arrives: 64 MiB (an inline attachment of about 48 MiB).</summary>
    public const int DefaultMaxTokenBytes = 64 << 20;

    private const string DesignPrefix = "_design/";
    private const int MaxDepth = 512;

    private readonly CouchBodyInspection _kind;
    private readonly ArrayPool<byte> _pool;
    private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = MaxDepth });

    /// <summary>Bytes of a token not yet whole, at the start of <see cref="_carry"/>.</summary>
    private byte[] _carry = [];
    private int _carryLength;
    private int _retryAt;

    private bool _expectId;
    private bool _expectDocs;
    private bool _inDocs;
    private bool _done;

    public DesignDocumentScanner(CouchBodyInspection kind, ArrayPool<byte>? pool = null, int maxTokenBytes = DefaultMaxTokenBytes)
    {
        if (kind == CouchBodyInspection.None)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), "nothing to inspect");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokenBytes);
        _kind = kind;
        _pool = pool ?? ArrayPool<byte>.Shared;
        MaxTokenBytes = maxTokenBytes;
    }

    public int MaxTokenBytes { get; }

    /// <summary>Reads the next piece of the body. Throws when what it has read so far must be refused.</summary>
    public void Feed(ReadOnlySpan<byte> piece)
    {
        if (_carryLength == 0)
        {
            var consumed = Scan(piece, isFinalBlock: false);
            Carry(piece[consumed..]);
            AfterScan();
            return;
        }

        Carry(piece);
        if (_carryLength < _retryAt && _carryLength <= MaxTokenBytes)
        {
            return; // still inside the token that failed: parsing it again now would only fail again
        }

        var used = Scan(_carry.AsSpan(0, _carryLength), isFinalBlock: false);
        var left = _carryLength - used;
        _carry.AsSpan(used, left).CopyTo(_carry);
        _carry.AsSpan(left, used).Clear();
        _carryLength = left;
        AfterScan();
    }

    /// <summary>The body has ended: throws unless it was exactly one JSON object with no design document.</summary>
    public void Complete()
    {
        Scan(_carry.AsSpan(0, _carryLength), isFinalBlock: true);
        if (!_done)
        {
            throw Invalid("the body is not one JSON object");
        }
    }

    public void Dispose()
    {
        if (_carry.Length > 0)
        {
            _carry.AsSpan(0, _carryLength).Clear(); // it held the client's body
            _pool.Return(_carry);
            _carry = [];
            _carryLength = 0;
        }
    }

    /// <summary>Adds <paramref name="bytes"/> after the carried ones, growing the pooled buffer.</summary>
    private void Carry(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var needed = _carryLength + bytes.Length;
        if (needed > _carry.Length)
        {
            var grown = _pool.Rent(Math.Max(needed, Math.Min(_carry.Length * 2, MaxTokenBytes + bytes.Length)));
            _carry.AsSpan(0, _carryLength).CopyTo(grown);
            if (_carry.Length > 0)
            {
                _carry.AsSpan(0, _carryLength).Clear();
                _pool.Return(_carry);
            }

            _carry = grown;
        }

        bytes.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength = needed;
    }

    /// <summary>What is carried now is one token not yet whole: bound it, and wait for it to double.</summary>
    private void AfterScan()
    {
        if (_carryLength > MaxTokenBytes)
        {
            throw new RequestRejectedException(RejectReason.BodyTooLarge, $"a JSON token longer than {MaxTokenBytes} bytes (an inline attachment?) cannot be inspected; send attachments separately");
        }

        _retryAt = _carryLength * 2;
    }

    /// <summary>Reads every whole token of <paramref name="data"/>; returns how many bytes they took.</summary>
    private int Scan(ReadOnlySpan<byte> data, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock, _state);
        try
        {
            while (reader.Read())
            {
                Judge(ref reader);
            }
        }
        catch (JsonException ex)
        {
            throw Invalid(ex.Message);
        }

        _state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private void Judge(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        if (depth == 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.EndObject))
        {
            throw Invalid("the body must be a JSON object");
        }

        if (_expectId)
        {
            _expectId = false;
            JudgeId(ref reader);
            return;
        }

        if (_expectDocs)
        {
            _expectDocs = false;
            _inDocs = reader.TokenType == JsonTokenType.StartArray
                ? true
                : throw Invalid("docs must be an array");
            return;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.EndObject when depth == 0:
                _done = true;
                break;
            case JsonTokenType.EndArray when depth == 1:
                _inDocs = false;
                break;
            case JsonTokenType.PropertyName when depth == 1 && _kind == CouchBodyInspection.Document:
                _expectId = reader.ValueTextEquals("_id"u8);
                break;
            case JsonTokenType.PropertyName when depth == 1:
                _expectDocs = reader.ValueTextEquals("docs"u8);
                break;
            case JsonTokenType.PropertyName when depth == 3 && _inDocs:
                // A property of an object that is an element of the docs array: a document's own field.
                _expectId = reader.ValueTextEquals("_id"u8);
                break;
        }
    }

    private static void JudgeId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Invalid("_id must be a string");
        }

        string id;
        try
        {
            id = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Invalid("_id is not valid UTF-8");
        }

        if (IsDesignId(id))
        {
            var shown = id.Length > 80 ? id[..80] + "…" : id;
            throw new RequestRejectedException(RejectReason.BodyForbidden, $"design document {shown} needs the design grant");
        }
    }

    /// <summary>CouchDB's and PouchDB's own test: an id that begins with <c>_design/</c>.</summary>
    public static bool IsDesignId(string id) => id.StartsWith(DesignPrefix, StringComparison.Ordinal);

    private static RequestRejectedException Invalid(string why) =>
        new(RejectReason.InvalidJsonBody, $"request body is not a valid JSON document: {why}");
}
