using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Smuggling;

/// <summary>
/// A backend that writes down every request it receives, parsed by its own simple reading of
/// HTTP/1.1 (Content-Length or chunked), and answers each with a tiny 200. It is the witness
/// of what actually crossed the gateway.
/// </summary>
public sealed class RecordingBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<RecordedRequest> _requests = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public RecordingBackend()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public void Clear()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new List<byte>();
            var chunk = new byte[8192];
            try
            {
                while (true)
                {
                    var request = TryTakeRequest(buffer);
                    if (request is null)
                    {
                        var read = await stream.ReadAsync(chunk, _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        buffer.AddRange(chunk.AsSpan(0, read).ToArray());
                        continue;
                    }

                    lock (_requests)
                    {
                        _requests.Add(request);
                    }

                    var answer = request.RequestLine.StartsWith("HEAD ", StringComparison.Ordinal)
                        ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"u8.ToArray()
                        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();
                    await stream.WriteAsync(answer, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or FormatException)
            {
            }
        }
    }

    private static RecordedRequest? TryTakeRequest(List<byte> buffer)
    {
        var bytes = buffer.ToArray();
        var text = Encoding.Latin1.GetString(bytes);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd < 0)
        {
            return null;
        }

        var head = text[..headEnd];
        var lines = head.Split("\r\n");
        var fields = lines.Skip(1).Select(l => (Name: l[..l.IndexOf(':', StringComparison.Ordinal)], Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())).ToList();
        var bodyStart = headEnd + 4;
        var te = fields.Where(f => f.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).ToList();
        var cl = fields.Where(f => f.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).ToList();
        string body;
        int end;
        if (te.Count > 0)
        {
            var sb = new StringBuilder();
            var pos = bodyStart;
            while (true)
            {
                var lineEnd = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
                if (lineEnd < 0)
                {
                    return null;
                }

                var size = Convert.ToInt32(text[pos..lineEnd].Split(';')[0], 16);
                pos = lineEnd + 2;
                if (size == 0)
                {
                    var trailerEnd = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
                    if (trailerEnd < 0)
                    {
                        return null;
                    }

                    end = trailerEnd + 2;
                    break;
                }

                if (text.Length < pos + size + 2)
                {
                    return null;
                }

                sb.Append(text, pos, size);
                pos += size + 2;
            }

            body = sb.ToString();
        }
        else
        {
            var length = cl.Count > 0 ? int.Parse(cl[0].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            if (text.Length < bodyStart + length)
            {
                return null;
            }

            body = text.Substring(bodyStart, length);
            end = bodyStart + length;
        }

        buffer.RemoveRange(0, end);
        return new RecordedRequest(lines[0], fields, body);
    }
}

public sealed record RecordedRequest(string RequestLine, IReadOnlyList<(string Name, string Value)> Fields, string Body)
{
    public int CountOf(string name) => Fields.Count(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
