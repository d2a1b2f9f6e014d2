namespace Enclave.Inference.Forge;

/// <summary>
/// Gaussian weights from a seeded <see cref="Random"/> (Box–Muller). Not key material: the point is that the same
/// seed gives the same bytes on every run, which the seeded <see cref="Random"/> guarantees across .NET versions.
/// </summary>
internal sealed class SeededWeights(int seed)
{
#pragma warning disable CA5394 // Reproducible model weights, not security: a seeded generator is the requirement.
    private readonly Random _random = new(seed);

    public float[] Normal(int count, double std, double mean = 0)
    {
        var values = new float[count];
        for (var i = 0; i < count; i += 2)
        {
            var u1 = 1.0 - _random.NextDouble();
            var u2 = _random.NextDouble();
            var radius = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(mean + (std * radius * Math.Cos(2 * Math.PI * u2)));
            if (i + 1 < count)
            {
                values[i + 1] = (float)(mean + (std * radius * Math.Sin(2 * Math.PI * u2)));
            }
        }

        return values;
    }
#pragma warning restore CA5394
}
