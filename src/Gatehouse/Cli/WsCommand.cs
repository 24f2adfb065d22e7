using System.Buffers;
using System.CommandLine;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse ws URL --pin PIN --cert CRT --key KEY</c>: a key-pinned WebSocket pipe for scripts and
/// manual tests (issue 6). Each stdin line goes out as a text message; each message received is printed
/// as one stdout line (binary ones as base64). EOF on stdin starts the close handshake. An encrypted key's
/// passphrase is the first stdin line (never argv). Exit 0 on a clean close, 1 on failure, 2 on bad usage.
/// </summary>
internal static class WsCommand
{
    private const int MaxMessageBytes = 16 * 1024 * 1024;

    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "wss:// URL; IPv6 in brackets, link-local with its zone as %25 (wss://[fe80::1%25eth0]:8443/feed)" };
        var pin = new Option<string>("--pin") { Description = "the server key's pin (sha256//…), as `gatehouse pin` prints it", Required = true };
        var cert = new Option<FileInfo>("--cert") { Description = "client certificate (PEM)", Required = true };
        var key = new Option<FileInfo>("--key") { Description = "client private key (PEM); if encrypted, the passphrase is read as the first line of stdin", Required = true };
        var command = new Command("ws", "Connect to a wss:// endpoint with a client certificate and a pinned server key; pipe stdin lines out as messages and print messages received.") { url, pin, cert, key };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(url)!, result.GetValue(pin)!, result.GetValue(cert)!, result.GetValue(key)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string url, string pin, FileInfo certFile, FileInfo keyFile, CancellationToken cancellationToken)
    {
        if (!KeyPin.IsWellFormed(pin))
        {
            return await UsageAsync("--pin must look like sha256//<base64 of 32 bytes>").ConfigureAwait(false);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return await UsageAsync($"'{url}' is not a URL").ConfigureAwait(false);
        }

        using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
        try
        {
            var passphrase = IsEncrypted(keyFile) ? await stdin.ReadLineAsync(cancellationToken).ConfigureAwait(false) ?? string.Empty : string.Empty;
            certificate = PemFiles.LoadCertificateWithKey(certFile.FullName, keyFile.FullName, passphrase);
        }
        catch (CertificateFileException ex)
        {
            return await UsageAsync(ex.Message).ConfigureAwait(false);
        }

        using (certificate)
        {
            try
            {
                using var socket = await GatehouseWebSocket.ConnectAsync(uri, pin, certificate, new GatehouseWebSocketOptions { MaxMessageBytes = MaxMessageBytes }, cancellationToken).ConfigureAwait(false);
                return await PipeAsync(socket, stdin, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or AuthenticationException or TimeoutException or IOException or ArgumentException or OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("gatehouse ws: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }
    }

    /// <summary>Two directions on their own tasks (the stream is full duplex); done when the close handshake is.</summary>
    private static async Task<int> PipeAsync(WebSocket socket, StreamReader stdin, CancellationToken cancellationToken)
    {
        var receiving = PrintMessagesAsync(socket, cancellationToken);
        var sending = SendLinesAsync(socket, stdin, receiving, cancellationToken);
        await receiving.ConfigureAwait(false);
        if (socket.State == WebSocketState.CloseReceived)
        {
            // The server closed first: answer its close (RFC 6455 §5.5.1) even while stdin is still open.
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        }

        if (!sending.IsCompleted)
        {
            // stdin may be an open terminal: nothing more can be sent once the stream is closed.
            _ = sending.ContinueWith(t => t.Exception, TaskScheduler.Default);
        }
        else
        {
            await sending.ConfigureAwait(false);
        }

        var clean = socket.State == WebSocketState.Closed && socket.CloseStatus is WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.Empty;
        if (!clean)
        {
            await Console.Error.WriteLineAsync($"gatehouse ws: closed with {(int?)socket.CloseStatus} {socket.CloseStatusDescription}".TrimEnd()).ConfigureAwait(false);
        }

        return clean ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static async Task PrintMessagesAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var stdout = Console.Out;
        while (true)
        {
            var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, MaxMessageBytes, cancellationToken).ConfigureAwait(false);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            var line = type == WebSocketMessageType.Text ? Encoding.UTF8.GetString(buffer.WrittenSpan) : Convert.ToBase64String(buffer.WrittenSpan);
            await stdout.WriteLineAsync(line).ConfigureAwait(false);
            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SendLinesAsync(WebSocket socket, StreamReader stdin, Task receiving, CancellationToken cancellationToken)
    {
        while (await stdin.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (receiving.IsCompleted || socket.State != WebSocketState.Open)
            {
                return;
            }

            await socket.SendAsync(Encoding.UTF8.GetBytes(line), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
        }

        if (socket.State == WebSocketState.Open)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsEncrypted(FileInfo keyFile)
    {
        try
        {
            return PemFiles.IsEncryptedKeyFile(keyFile.FullName);
        }
        catch (CertificateFileException)
        {
            return false; // LoadCertificateWithKey reports the unreadable file properly
        }
    }

    private static async Task<int> UsageAsync(string message)
    {
        await Console.Error.WriteLineAsync("gatehouse ws: " + message).ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}
