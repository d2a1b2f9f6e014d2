using System.Globalization;
using System.Text;

namespace Enclave.Airlock.Bundles;

// The tar header reader: ustar, pax and GNU headers parsed and checked before any data is read (names, sizes, pax
// records, long names, padding, the end of the archive). The entry walk is in BundleReader.cs.
public sealed partial class BundleReader
{
    private sealed partial class Session
    {
        private void CheckFileConflicts(string name)
        {
            if (_parentNames.Contains(name))
            {
                throw Reject(BundleRejection.DuplicateEntry, $"entry {name} is both a file and a folder of other entries");
            }

            for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = name.IndexOf('/', slash + 1))
            {
                var parent = name[..slash];
                if (_fileNames.Contains(parent))
                {
                    throw Reject(BundleRejection.DuplicateEntry, $"entry {name} lies under {parent}, which is a file");
                }

                _parentNames.Add(parent);
            }

            _fileNames.Add(name);
        }

        private string ValidateName(string name, long headerOffset)
        {
            var where = $"at byte {headerOffset}";
            if (name.Length == 0)
            {
                throw Reject(BundleRejection.Malformed, $"entry {where} has an empty name");
            }

            if (Encoding.UTF8.GetByteCount(name) > options.MaxNameBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"entry name {where} is longer than {options.MaxNameBytes} bytes");
            }

            foreach (var c in name)
            {
                if (c == '\0' || c == '\\' || char.IsControl(c))
                {
                    throw Reject(BundleRejection.PathTraversal, $"entry name {Printable(name)} {where} contains a backslash, NUL or control character");
                }
            }

            if (name[0] == '/' || (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])))
            {
                throw Reject(BundleRejection.AbsolutePath, $"entry name {name} {where} is absolute");
            }

            foreach (var segment in name.Split('/'))
            {
                if (segment.Length == 0 || segment == "." || segment == "..")
                {
                    throw Reject(BundleRejection.PathTraversal, $"entry name {name} {where} has an empty, '.' or '..' segment");
                }

                if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
                {
                    throw Reject(BundleRejection.Malformed, $"entry name {name} {where} has a segment longer than {MaxSegmentBytes} bytes");
                }
            }

            return name;
        }

        private void VerifyHeader(long headerOffset)
        {
            var magic = _header.AsSpan(257, 8);
            if (!magic.SequenceEqual("ustar\000"u8) && !magic.SequenceEqual("ustar  \0"u8))
            {
                throw Reject(BundleRejection.Malformed, $"header at byte {headerOffset} is not a ustar, pax or GNU tar header");
            }

            var stored = ParseNumber(_header.AsSpan(148, 8), "checksum", headerOffset);
            long unsignedSum = 0;
            long signedSum = 0;
            for (var i = 0; i < BlockSize; i++)
            {
                var b = i is >= 148 and < 156 ? (byte)' ' : _header[i];
                unsignedSum += b;
                signedSum += unchecked((sbyte)b); // bytes 128-255 count negative here (old tar writers); not an overflow
            }

            if (stored != unsignedSum && stored != signedSum)
            {
                throw Reject(BundleRejection.Malformed, $"header at byte {headerOffset} fails its checksum (stored {stored}, computed {unsignedSum})");
            }
        }

        private string HeaderName(long headerOffset)
        {
            var name = Field(_header.AsSpan(0, 100), "name", headerOffset);
            var ustar = _header.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
            if (ustar && _header[345] != 0)
            {
                var prefix = Field(_header.AsSpan(345, 155), "prefix", headerOffset);
                return prefix + "/" + name;
            }

            return name;
        }

        private string Field(ReadOnlySpan<byte> field, string what, long headerOffset)
        {
            var end = field.IndexOf((byte)0);
            if (end < 0)
            {
                end = field.Length;
            }
            else if (field[end..].ContainsAnyExcept((byte)0))
            {
                throw Reject(BundleRejection.PathTraversal, $"the {what} field at byte {headerOffset} has a NUL inside it");
            }

            return Decode(field[..end], what, headerOffset);
        }

        private static string Decode(ReadOnlySpan<byte> bytes, string what, long headerOffset)
        {
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is not valid UTF-8");
            }
        }

        private static long ParseNumber(ReadOnlySpan<byte> field, string what, long headerOffset)
        {
            if ((field[0] & 0x80) != 0)
            {
                // GNU base-256: big-endian, the top bit marks the encoding; negative values are refused.
                if ((field[0] & 0x40) != 0)
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is negative");
                }

                long value = field[0] & 0x3F;
                foreach (var b in field[1..])
                {
                    if (value > (long.MaxValue >> 8))
                    {
                        throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} overflows");
                    }

                    value = (value << 8) | b;
                }

                return value;
            }

            var i = 0;
            while (i < field.Length && field[i] == (byte)' ')
            {
                i++;
            }

            long result = 0;
            var digits = 0;
            for (; i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; i++, digits++)
            {
                if (result > (long.MaxValue >> 3))
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} overflows");
                }

                result = (result << 3) | (long)(field[i] - '0');
            }

            for (; i < field.Length; i++)
            {
                if (field[i] is not (byte)' ' and not 0)
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is not an octal number");
                }
            }

            if (digits == 0)
            {
                throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is empty");
            }

            return result;
        }

        private static long ParsePaxSize(string value, long headerOffset)
        {
            if (value.Length == 0 || value.Length > 19 || !value.All(char.IsAsciiDigit)
                || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw Reject(BundleRejection.Malformed, $"the pax size before byte {headerOffset} is not a decimal number");
            }

            return size;
        }

        private Dictionary<string, string> ReadPax(long size, long headerOffset, bool global)
        {
            var data = ReadExtension(size, headerOffset, "pax header");
            var records = new Dictionary<string, string>(StringComparer.Ordinal);
            var pos = 0;
            while (pos < data.Length)
            {
                var space = Array.IndexOf(data, (byte)' ', pos);
                if (space <= pos || space - pos > 10)
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has no length");
                }

                // At most ten digits: a long holds any of them (an int does not: 9999999999 overflowed).
                long length = 0;
                for (var i = pos; i < space; i++)
                {
                    if (data[i] is < (byte)'0' or > (byte)'9')
                    {
                        throw Reject(BundleRejection.Malformed, $"pax record length at byte {headerOffset} is not decimal");
                    }

                    length = checked((length * 10) + (data[i] - '0'));
                }

                if (length <= space - pos + 1 || length > data.Length - pos || data[pos + length - 1] != (byte)'\n')
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has a wrong length");
                }

                var record = data.AsSpan(space + 1, (int)(pos + length - space - 2));
                var equals = record.IndexOf((byte)'=');
                if (equals <= 0)
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has no key");
                }

                var key = Decode(record[..equals], "pax key", headerOffset);
                var value = Decode(record[(equals + 1)..], "pax value", headerOffset);
                if (!records.TryAdd(key, value))
                {
                    throw Reject(BundleRejection.Malformed, $"pax header at byte {headerOffset} repeats the key {key}");
                }

                if (key.StartsWith("GNU.sparse", StringComparison.Ordinal))
                {
                    throw Reject(BundleRejection.Malformed, $"pax header at byte {headerOffset} describes a sparse file");
                }

                if (global && key is "path" or "size" or "linkpath")
                {
                    throw Reject(BundleRejection.Malformed, $"global pax header at byte {headerOffset} sets {key}");
                }

                pos += (int)length;
            }

            return records;
        }

        private string ReadLongName(long size, long headerOffset)
        {
            var data = ReadExtension(size, headerOffset, "GNU long name");
            var end = Array.IndexOf(data, (byte)0);
            if (end >= 0 && data.AsSpan(end).ContainsAnyExcept((byte)0))
            {
                throw Reject(BundleRejection.PathTraversal, $"GNU long name at byte {headerOffset} has a NUL inside it");
            }

            return Decode(data.AsSpan(0, end < 0 ? data.Length : end), "GNU long name", headerOffset);
        }

        private byte[] ReadExtension(long size, long headerOffset, string what)
        {
            if (size > options.MaxPaxHeaderBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"{what} at byte {headerOffset} is {size} bytes; the limit is {options.MaxPaxHeaderBytes}");
            }

            var data = new byte[size];
            if (ReadFull(data) < size)
            {
                throw Reject(BundleRejection.Truncated, $"{what} at byte {headerOffset} is cut short");
            }

            SkipPadding(size, what);
            return data;
        }

        private void SkipPadding(long size, string what)
        {
            var padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
            if (padding > 0 && ReadFull(_header.AsSpan(0, padding)) < padding)
            {
                throw Reject(BundleRejection.Truncated, $"padding after {what} is cut short");
            }
        }

        private void FinishEndOfArchive(long headerOffset, bool pending)
        {
            if (pending)
            {
                throw Reject(BundleRejection.Malformed, $"a pax or long-name header before byte {headerOffset} describes no entry");
            }

            var read = ReadFull(_header);
            if (read < BlockSize)
            {
                throw Reject(BundleRejection.Truncated, $"end-of-archive marker at byte {headerOffset} is cut short");
            }

            if (!IsZero(_header))
            {
                throw Reject(BundleRejection.Malformed, $"a lone zero block at byte {headerOffset} is followed by data");
            }

            // Writers pad to their record size with zeros; anything else after the marker is refused.
            long trailing = 0;
            while (true)
            {
                read = ReadFull(_header);
                if (read == 0)
                {
                    return;
                }

                trailing += read;
                if (trailing > options.MaxTrailingBytes || !IsZero(_header.AsSpan(0, read)))
                {
                    throw Reject(BundleRejection.Malformed, $"data follows the end-of-archive marker at byte {headerOffset}");
                }
            }
        }

        private int ReadFull(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = archive.Read(buffer[total..]);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            _position += total;
            return total;
        }

        private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

        private string Describe(Dictionary<string, string>? pax, string? longName, long headerOffset) =>
            Printable(pax is not null && pax.TryGetValue("path", out var p) ? p : longName ?? HeaderName(headerOffset));

        private static string Printable(string name) =>
            string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
