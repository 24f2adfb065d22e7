using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Discovery;

/// <summary>
/// Discovery on the local link (issue 21 item 1), in-process: announces this gateway as
/// <c>_gatehouse._tcp</c> on every interface and records every other gateway it hears in
/// <see cref="Seen"/>. The flow:
/// 1. Every <see cref="DiscoveryOptions.RescanEvery"/>, read the interfaces; join the groups on a new
///    one, and on a new interface or changed addresses announce three times, a second apart
///    (RFC 6762 §8.3), and ask who else is there.
/// 2. Ask again every <see cref="DiscoveryOptions.QueryEvery"/>; answer a query for the service, the
///    instance or the host, on the interface it came on, at most once a second (RFC 6762 §6).
/// 3. Every response from port 5353 is read strictly; each gateway in it lands in <see cref="Seen"/>
///    by pin, its link-local addresses zoned with the interface they were heard on.
/// 4. On stop, say goodbye (TTL 0, RFC 6762 §10.1) so others drop this gateway at once.
/// Nothing here trusts what it hears: a pin heard is only a hint where to dial, and the peer link's
/// TLS handshake checks the pin.
/// </summary>
internal sealed partial class LinkDiscovery : IAsyncDisposable
{
    private static readonly TimeSpan AnswerInterval = TimeSpan.FromSeconds(1);

    /// <summary>Datagrams read per second at most: far above a quiet link's few, and a flood costs bounded CPU.</summary>
    private const int MaxDatagramsPerSecond = 200;

    private readonly DiscoveryOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<int, InterfaceState> _interfaces = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Func<string, string?> _peerNameOf = _ => null;
    private MulticastSockets? _sockets;
    private Task _running = Task.CompletedTask;
    private long _dropped;
    private long _windowSecond;
    private int _windowCount;

    public LinkDiscovery(DiscoveryOptions options, ILoggerFactory loggers)
    {
        _options = options;
        _logger = loggers.CreateLogger("Gatehouse.Discovery");
    }

    public SeenGateways Seen { get; } = new();

    public DiscoveryOptions Options => _options;

    /// <summary>Why discovery is not running, when it is not (the port could not be bound).</summary>
    public string? Error { get; private set; }

    /// <summary>Malformed or oversized datagrams dropped since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The interfaces in use now, by name.</summary>
    public IReadOnlyList<string> InterfaceNames
    {
        get
        {
            lock (_lock)
            {
                return [.. _interfaces.Values.Select(i => i.Link.Name).Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The peer table's name for a pin, or null: set again on every reload.</summary>
    public Func<string, string?> PeerNameOf
    {
        get => Volatile.Read(ref _peerNameOf);
        set => Volatile.Write(ref _peerNameOf, value);
    }

    /// <summary>Opens the sockets and starts the loops; a port that cannot be bound turns discovery off with a warning, never the gateway.</summary>
    public void Start()
    {
        try
        {
            _sockets = MulticastSockets.Open(Warn);
        }
        catch (SocketException ex)
        {
            Error = $"cannot bind UDP port {MulticastSockets.Port}: {ex.Message}";
            LogOff(Error);
            return;
        }

        var loops = _sockets.Receive(OnDatagramAsync, Warn, _stopping.Token).Append(RunAsync(_stopping.Token)).ToList();
        _running = Task.WhenAll(loops);
        LogStarted(_options.DeviceName, _options.Announce ? _options.Port : 0);
    }

    public async ValueTask DisposeAsync()
    {
        if (_sockets is not null && !_stopping.IsCancellationRequested)
        {
            await SayGoodbyeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _sockets?.Dispose();
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var nextQuery = DateTimeOffset.MinValue;
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var sinceRescan = TimeSpan.MaxValue;
        do
        {
            if (sinceRescan >= _options.RescanEvery)
            {
                Rescan();
                sinceRescan = TimeSpan.Zero;
            }

            sinceRescan += TimeSpan.FromSeconds(1);
            List<(int Index, bool Announce, bool Query)> due;
            var now = DateTimeOffset.UtcNow;
            var queryAll = now >= nextQuery;
            if (queryAll)
            {
                nextQuery = now + _options.QueryEvery;
            }

            lock (_lock)
            {
                due = [.. _interfaces.Values.Select(state => (state.Link.Index, state.TakeAnnouncement(), queryAll || state.TakeQuery()))];
            }

            foreach (var (index, announce, query) in due)
            {
                if (announce && _options.Announce)
                {
                    await SendAnnouncementAsync(index, GatehouseService.Ttl, stopping).ConfigureAwait(false);
                }

                if (query)
                {
                    await SendAsync(DnsMessageWriter.Query([new DnsQuestion(_options.ServiceType, DnsType.Ptr)]), index, stopping).ConfigureAwait(false);
                }
            }
        }
        while (await WaitAsync(tick, stopping).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer tick, CancellationToken stopping)
    {
        try
        {
            return await tick.WaitForNextTickAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Rescan()
    {
        List<LinkInterface> now;
        try
        {
            now = LinkInterface.Current(_options.Interfaces);
        }
        catch (Exception ex) when (ex is System.Net.NetworkInformation.NetworkInformationException or IOException)
        {
            Warn($"cannot read the network interfaces: {ex.Message}");
            return;
        }

        lock (_lock)
        {
            foreach (var gone in _interfaces.Keys.Except(now.Select(l => l.Index)).ToList())
            {
                _interfaces.Remove(gone);
                _sockets!.Forget(gone);
            }

            foreach (var link in now)
            {
                var joinedNow = _sockets!.Join(link, Warn);
                if (!_interfaces.TryGetValue(link.Index, out var state))
                {
                    if (!joinedNow)
                    {
                        continue;
                    }

                    _interfaces[link.Index] = new InterfaceState(link);
                    LogInterface(link.Name, string.Join(' ', link.Addresses));
                }
                else if (!state.Link.Addresses.ToHashSet().SetEquals(link.Addresses))
                {
                    // New addresses (a cable plugged back in, DAD finished): tell the link again.
                    _interfaces[link.Index] = new InterfaceState(link);
                    LogInterface(link.Name, string.Join(' ', link.Addresses));
                }
            }
        }
    }

    private async Task OnDatagramAsync(Datagram datagram)
    {
        if (!WithinRate())
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        DnsMessage message;
        try
        {
            message = DnsMessageReader.Read(datagram.Bytes.Span);
        }
        catch (DnsFormatException ex)
        {
            Interlocked.Increment(ref _dropped);
            LogDropped(datagram.From, ex.Message);
            return;
        }

        if (!message.IsResponse)
        {
            await AnswerAsync(message, datagram).ConfigureAwait(false);
            return;
        }

        // RFC 6762 §6, §11: a response not from port 5353 is not multicast DNS; ignore it.
        if (datagram.From.Port != MulticastSockets.Port)
        {
            return;
        }

        foreach (var announcement in GatehouseService.Read(message, datagram.InterfaceIndex, _options.ServiceType))
        {
            if (!_options.IncludeSelf && string.Equals(announcement.Pin, _options.Pin, StringComparison.Ordinal))
            {
                continue; // our own, looped back
            }

            var peer = PeerNameOf(announcement.Pin);
            var before = Seen.AddressesOf([announcement.Pin]);
            Seen.Record(announcement, pin => PeerNameOf(pin) is not null);
            var after = Seen.AddressesOf([announcement.Pin]);
            foreach (var address in after.Except(before))
            {
                LogSeen(announcement.DeviceName, announcement.Pin, Display(address), peer ?? "not paired");
            }
        }
    }

    /// <summary>A fixed one-second window; the receive loops call this one datagram at a time each.</summary>
    private bool WithinRate()
    {
        var second = Environment.TickCount64 / 1000;
        lock (_lock)
        {
            if (second != _windowSecond)
            {
                _windowSecond = second;
                _windowCount = 0;
            }

            return ++_windowCount <= MaxDatagramsPerSecond;
        }
    }

    private async Task AnswerAsync(DnsMessage query, Datagram datagram)
    {
        if (!_options.Announce || _options.Port == 0 || !GatehouseService.Asks(query, _options.DeviceName, _options.Pin, _options.ServiceType))
        {
            return;
        }

        lock (_lock)
        {
            if (!_interfaces.TryGetValue(datagram.InterfaceIndex, out var state) || !state.TakeAnswer(DateTimeOffset.UtcNow, AnswerInterval))
            {
                return;
            }
        }

        await SendAnnouncementAsync(datagram.InterfaceIndex, GatehouseService.Ttl, _stopping.Token).ConfigureAwait(false);
    }

    private async Task SayGoodbyeAsync()
    {
        if (!_options.Announce || _options.Port == 0)
        {
            return;
        }

        List<int> indexes;
        lock (_lock)
        {
            indexes = [.. _interfaces.Keys];
        }

        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        foreach (var index in indexes)
        {
            await SendAnnouncementAsync(index, 0, bounded.Token).ConfigureAwait(false);
        }
    }

    private async Task SendAnnouncementAsync(int index, uint ttl, CancellationToken cancellationToken)
    {
        LinkInterface? link;
        lock (_lock)
        {
            link = _interfaces.GetValueOrDefault(index)?.Link;
        }

        if (link is null || _options.Port == 0)
        {
            return;
        }

        var addresses = _options.Reachable(link).ToList();
        if (addresses.Count == 0)
        {
            return;
        }

        var records = GatehouseService.Records(new Announcement(_options.DeviceName, _options.Pin, _options.Port, addresses, ttl), _options.ServiceType);
        await SendAsync(DnsMessageWriter.Response(records), index, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(byte[] message, int index, CancellationToken cancellationToken)
    {
        try
        {
            await _sockets!.SendAsync(message, index, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException ex)
        {
            // An interface going down mid-send is routine on a laptop; the next rescan sorts it out.
            LogSendFailed(index, ex.Message);
        }
    }

    /// <summary>An address as people write it: [fe80::1%eth0]:8443.</summary>
    public static string Display(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return endpoint.ToString();
        }

        var bare = new IPAddress(endpoint.Address.GetAddressBytes());
        var zone = endpoint.Address.ScopeId == 0 ? string.Empty : "%" + (LinkInterface.NameOf(endpoint.Address.ScopeId) ?? endpoint.Address.ScopeId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return $"[{bare}{zone}]:{endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    private void Warn(string message) => LogWarning(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "discovery: announcing \"{Name}\" on port {Port} (0: browsing only) over multicast DNS")]
    private partial void LogStarted(string name, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "discovery is off: {Reason}")]
    private partial void LogOff(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "discovery: {Message}")]
    private partial void LogWarning(string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "discovery: on {Interface} ({Addresses})")]
    private partial void LogInterface(string @interface, string addresses);

    [LoggerMessage(Level = LogLevel.Information, Message = "discovery: saw \"{Name}\" {Pin} at {Address} ({Peer})")]
    private partial void LogSeen(string name, string pin, string address, string peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "discovery: dropped a datagram from {From}: {Reason}")]
    private partial void LogDropped(IPEndPoint from, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "discovery: send on interface {Index} failed: {Reason}")]
    private partial void LogSendFailed(int index, string reason);

    /// <summary>Per interface: what it is now and what is due to be sent on it.</summary>
    private sealed class InterfaceState(LinkInterface link)
    {
        private int _announcementsDue = 3;
        private bool _queryDue = true;
        private DateTimeOffset _lastAnswer = DateTimeOffset.MinValue;

        public LinkInterface Link { get; } = link;

        public bool TakeAnnouncement() => _announcementsDue > 0 && _announcementsDue-- > 0;

        public bool TakeQuery()
        {
            var due = _queryDue;
            _queryDue = false;
            return due;
        }

        public bool TakeAnswer(DateTimeOffset now, TimeSpan interval)
        {
            if (now - _lastAnswer < interval)
            {
                return false;
            }

            _lastAnswer = now;
            return true;
        }
    }
}
