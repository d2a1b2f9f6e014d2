using System.Globalization;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The machine's CPU time by state at one instant, from the first line of <c>/proc/stat</c> (clock ticks, all cores):
/// idle (with iowait), steal (time the hypervisor gave this VM's virtual CPUs to someone else) and the total of every
/// state. Two snapshots give the shares of an interval; a zero snapshot (<see cref="Unknown"/>) when <c>/proc/stat</c>
/// cannot be read.
/// </summary>
internal readonly record struct MachineCpu(long Idle, long Steal, long Total)
{
    public static MachineCpu Unknown => default;

    public bool IsKnown => Total > 0;

    public static MachineCpu Read()
    {
        try
        {
            return Parse(File.ReadLines("/proc/stat").First());
        }
        catch (IOException)
        {
            return Unknown;
        }
        catch (UnauthorizedAccessException)
        {
            return Unknown;
        }
    }

    /// <summary>
    /// The aggregate <c>cpu</c> line: user nice system idle iowait irq softirq steal guest guest_nice. Guest time is
    /// already counted in user and nice, so the total stops at steal.
    /// </summary>
    public static MachineCpu Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu")
        {
            throw new FormatException($"not the aggregate cpu line of /proc/stat: '{line}'");
        }

        var v = new long[8];
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = long.Parse(f[i + 1], CultureInfo.InvariantCulture);
        }

        return new MachineCpu(Idle: v[3] + v[4], Steal: v[7], Total: v.Sum());
    }

    /// <summary>Idle and steal as shares of all the machine's CPU time between <paramref name="start"/> and <paramref name="end"/>; NaN when unknown.</summary>
    public static (double Idle, double Steal) SharesBetween(MachineCpu start, MachineCpu end)
    {
        var total = end.Total - start.Total;
        return !start.IsKnown || !end.IsKnown || total <= 0
            ? (double.NaN, double.NaN)
            : ((end.Idle - start.Idle) / (double)total, (end.Steal - start.Steal) / (double)total);
    }
}
