namespace Gatehouse.Logging;

/// <summary>
/// Carries finished log lines to a sink (stderr) on a thread of its own, a batch a write. A request
/// adds its access line with a copy under a lock and goes on: it never waits for the sink, and it
/// wakes the writer only when the batch was empty. The writer then lets lines gather for
/// <see cref="GatherTime"/> and writes them all at once, so a busy gateway pays a few writes a
/// second instead of a system call and a thread switch per request. Warnings and worse, and a batch
/// of <see cref="FlushBytes"/>, are written without gathering. When the sink stops draining (a
/// stuck journal, a paused terminal), lines wait up to <see cref="MaxPendingBytes"/>, and past that
/// they are dropped and counted; once the sink takes writes again, a line says how many were dropped.
/// </summary>
internal sealed class LogLineWriter : IDisposable
{
    /// <summary>What may wait for a slow sink: about 1,400 access lines.</summary>
    public const int MaxPendingBytes = 1024 * 1024;

    /// <summary>How long the writer lets lines gather after the first of a batch: short enough that someone tailing the log sees each request at once.</summary>
    public static readonly TimeSpan GatherTime = TimeSpan.FromMilliseconds(25);

    /// <summary>A batch this big is written without waiting out the gather time: a busy gateway's lines never reach <see cref="MaxPendingBytes"/> while the sink keeps up.</summary>
    public const int FlushBytes = 256 * 1024;

    /// <summary>How long a stop waits for the last lines to be written.</summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(2);

    private const int FirstBufferSize = 16 * 1024;

    private readonly Stream _sink;
    private readonly Func<long, byte[]> _droppedLine;
    private readonly long _gatherMs;
    private readonly object _gate = new(); // Monitor's Wait and Pulse: the writer sleeps on it
    private readonly Thread _thread;
    private byte[] _pending = new byte[FirstBufferSize];
    private int _pendingLength;
    private byte[] _writing = new byte[FirstBufferSize];
    private long _dropped;
    private bool _urgent;
    private bool _stopping;
    private bool _sinkGone;

    /// <param name="sink">Where the lines go; written from the writer's thread only.</param>
    /// <param name="droppedLine">The line (in the sink's format, newline included) that reports how many lines were dropped.</param>
    /// <param name="gatherTime"><see cref="GatherTime"/> unless a test needs another.</param>
    public LogLineWriter(Stream sink, Func<long, byte[]> droppedLine, TimeSpan? gatherTime = null)
    {
        _sink = sink;
        _droppedLine = droppedLine;
        _gatherMs = (long)(gatherTime ?? GatherTime).TotalMilliseconds;
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "gatehouse log writer" };
        _thread.Start();
    }

    /// <summary>Adds one whole line (newline included); <paramref name="urgent"/> has it written without gathering.</summary>
    public void Append(ReadOnlySpan<byte> line, bool urgent)
    {
        lock (_gate)
        {
            if (_stopping || _sinkGone || _pendingLength + line.Length > MaxPendingBytes)
            {
                _dropped++;
                return;
            }

            if (_pendingLength + line.Length > _pending.Length)
            {
                Array.Resize(ref _pending, Math.Min(MaxPendingBytes, Math.Max(_pending.Length * 2, _pendingLength + line.Length)));
            }

            line.CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += line.Length;
            urgent |= _pendingLength >= FlushBytes;
            var wake = _pendingLength == line.Length || (urgent && !_urgent);
            _urgent |= urgent;
            if (wake)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    private void WriteLoop()
    {
        while (true)
        {
            int length;
            long dropped;
            bool stopping;
            lock (_gate)
            {
                while (_pendingLength == 0 && _dropped == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }

                // Gather: lines added meanwhile go in this write; an urgent line or the stop ends it early.
                var until = Environment.TickCount64 + _gatherMs;
                long left;
                while (!_urgent && !_stopping && (left = until - Environment.TickCount64) > 0)
                {
                    Monitor.Wait(_gate, (int)Math.Min(left, int.MaxValue));
                }

                (_pending, _writing) = (_writing, _pending);
                length = _pendingLength;
                _pendingLength = 0;
                _urgent = false;
                dropped = _sinkGone ? 0 : _dropped;
                _dropped = 0;
                stopping = _stopping;
            }

            Write(length, dropped);
            if (stopping)
            {
                return;
            }
        }
    }

    /// <summary>Writes the batch, then the dropped count if any. Runs on the writer's thread.</summary>
    private void Write(int length, long dropped)
    {
        if ((length == 0 && dropped == 0) || _sinkGone)
        {
            return;
        }

        try
        {
            _sink.Write(_writing, 0, length);
            if (dropped > 0)
            {
                _sink.Write(_droppedLine(dropped));
            }

            _sink.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // Nobody reads stderr any more (a closed pipe): there is nowhere to tell, so stop trying.
            lock (_gate)
            {
                _sinkGone = true;
            }
        }
    }

    /// <summary>Writes every line added so far, then stops the writer; a sink that takes nothing for <see cref="StopWait"/> is left behind.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.Pulse(_gate);
        }

        // A stalled sink must not hold the process at exit; the thread is a background one.
        _thread.Join(StopWait);
    }
}
