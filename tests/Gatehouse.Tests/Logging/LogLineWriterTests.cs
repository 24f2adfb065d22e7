using System.Text;
using Gatehouse.Logging;

namespace Gatehouse.Tests.Logging;

/// <summary>The batch writer behind stderr: lines that come together go out in one write, and a sink that stops taking them costs lines, never a wait.</summary>
public sealed class LogLineWriterTests
{
    [Fact]
    public void LinesThatComeTogetherGoOutInOneWriteAndInOrder()
    {
        var sink = new RecordingStream();
        var writer = new LogLineWriter(sink, DroppedLine);
        var expected = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            var line = $"line {i}\n";
            expected.Append(line);
            writer.Append(Encoding.ASCII.GetBytes(line), urgent: false);
        }

        writer.Dispose();

        Assert.Equal(expected.ToString(), sink.Text);
        // 200 lines added within the gather time: one batch (two if the writer woke between them).
        Assert.InRange(sink.Writes, 1, 2);
    }

    [Fact]
    public async Task AnUrgentLineIsWrittenWithoutWaitingToGather()
    {
        var sink = new RecordingStream();
        using var writer = new LogLineWriter(sink, DroppedLine, gatherTime: TimeSpan.FromHours(1));
        writer.Append("info\n"u8, urgent: false);
        writer.Append("warning\n"u8, urgent: true);

        await WaitForAsync(() => sink.Text.Length > 0);
        Assert.Equal("info\nwarning\n", sink.Text);
    }

    [Fact]
    public async Task AFullBatchIsWrittenWithoutWaitingToGather()
    {
        // A busy gateway fills a batch before the gather time is out: it goes at once, so the lines
        // of a sink that keeps up never pile up to where they would be dropped.
        var sink = new RecordingStream();
        using var writer = new LogLineWriter(sink, DroppedLine, gatherTime: TimeSpan.FromHours(1));
        var line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        for (var i = 0; i < LogLineWriter.FlushBytes / line.Length; i++)
        {
            writer.Append(line, urgent: false);
        }

        await WaitForAsync(() => sink.Text.Length >= LogLineWriter.FlushBytes);
        Assert.Equal(LogLineWriter.FlushBytes, sink.Text.Length);
    }

    private static async Task WaitForAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
    }

    [Fact]
    public void ASinkThatStopsTakingLinesCostsLinesNotWaitsAndIsToldHowMany()
    {
        var sink = new RecordingStream { Held = new ManualResetEventSlim(false) };
        var writer = new LogLineWriter(sink, DroppedLine);
        writer.Append("first\n"u8, urgent: true);
        Assert.True(sink.Entered.Wait(TimeSpan.FromSeconds(10)), "the writer never wrote");

        // The writer is stuck in its write: 2 MiB of lines more than fit the 1 MiB that may wait.
        var line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        const int Lines = 2048;
        for (var i = 0; i < Lines; i++)
        {
            writer.Append(line, urgent: false); // returns at once, kept or dropped
        }

        sink.Held.Set();
        writer.Dispose();

        var kept = LogLineWriter.MaxPendingBytes / line.Length;
        var text = sink.Text;
        Assert.StartsWith("first\n", text, StringComparison.Ordinal);
        Assert.Equal(kept, text.Split('\n').Count(l => l.StartsWith('x')));
        Assert.EndsWith($"dropped {Lines - kept}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ASinkThatIsGoneIsLeftAlone()
    {
        var sink = new RecordingStream { Broken = true };
        var writer = new LogLineWriter(sink, DroppedLine);
        writer.Append("one\n"u8, urgent: true);
        for (var i = 0; i < 100; i++)
        {
            writer.Append("more\n"u8, urgent: false);
        }

        writer.Dispose(); // returns: nothing is retried against a closed pipe
        Assert.Equal(1, sink.Writes);
    }

    private static byte[] DroppedLine(long dropped) => Encoding.ASCII.GetBytes($"dropped {dropped}\n");

    /// <summary>Records what is written and how many writes; can hold a write (a full pipe) or fail it (a closed one).</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _written = new();

        public ManualResetEventSlim? Held { get; init; }

        public ManualResetEventSlim Entered { get; } = new(false);

        public bool Broken { get; init; }

        public int Writes { get; private set; }

        public string Text
        {
            get
            {
                lock (_written)
                {
                    return Encoding.ASCII.GetString(_written.ToArray());
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes++;
            Entered.Set();
            if (Broken)
            {
                throw new IOException("Broken pipe");
            }

            Held?.Wait();
            lock (_written)
            {
                _written.Write(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
