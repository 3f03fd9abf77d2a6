using System.Buffers;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, so parsers can be fed input split at any byte.</summary>
public static class SequenceBuilder
{
    /// <summary>The bytes of <paramref name="text"/> as ISO-8859-1 (each char one octet).</summary>
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>One sequence over <paramref name="segments"/>, one segment each (empty segments are kept).</summary>
    public static ReadOnlySequence<byte> Create(params byte[][] segments)
        => Create(Array.ConvertAll(segments, static s => (ReadOnlyMemory<byte>)s));

    /// <summary>One sequence over <paramref name="segments"/>, one segment each (empty segments are kept); nothing is copied.</summary>
    public static ReadOnlySequence<byte> Create(params ReadOnlyMemory<byte>[] segments)
    {
        if (segments.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (segments.Length == 1)
        {
            return new ReadOnlySequence<byte>(segments[0]);
        }

        var first = new Segment(segments[0], 0);
        var last = first;
        for (var i = 1; i < segments.Length; i++)
        {
            last = last.Append(segments[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>
    /// <paramref name="data"/> split at the given ascending positions: no position gives one segment, one gives two,
    /// two give three. Positions may repeat or sit at the ends (empty segments).
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] positions) => Create(Slices(data, positions));

    /// <summary>The pieces of <paramref name="data"/> between the given ascending positions, as slices (no copy).</summary>
    public static ReadOnlyMemory<byte>[] Slices(byte[] data, params int[] positions)
    {
        var pieces = new ReadOnlyMemory<byte>[positions.Length + 1];
        var start = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            pieces[i] = data.AsMemory(start, positions[i] - start);
            start = positions[i];
        }

        pieces[^1] = data.AsMemory(start);
        return pieces;
    }

    /// <summary>The pieces of <paramref name="data"/> between the given ascending positions.</summary>
    public static byte[][] Pieces(byte[] data, params int[] positions)
    {
        var pieces = new List<byte[]>();
        var start = 0;
        foreach (var position in positions)
        {
            pieces.Add(data[start..position]);
            start = position;
        }

        pieces.Add(data[start..]);
        return pieces.ToArray();
    }

    /// <summary>Every way to cut <paramref name="length"/> bytes into 1, 2 or 3 pieces: (), (i) and (i, j) with i ≤ j.</summary>
    public static IEnumerable<int[]> AllSplits(int length)
    {
        yield return [];
        for (var i = 0; i <= length; i++)
        {
            yield return [i];
        }

        for (var i = 0; i <= length; i++)
        {
            for (var j = i; j <= length; j++)
            {
                yield return [i, j];
            }
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
