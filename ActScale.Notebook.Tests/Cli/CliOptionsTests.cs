using ActScale.Cli;
using ActScale.Notebook;
using ActScale.Tests.Notebook;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Cli;

/// <summary>The tool and the magics share option names, defaults and messages: a mistake reads the same in both.</summary>
public sealed class CliOptionsTests(CliOptionsTests.LoadedKernel kernel) : IClassFixture<CliOptionsTests.LoadedKernel>
{
    /// <summary>A notebook kernel with a tiny model loaded, so the magic train gets as far as reading its options.</summary>
    public sealed class LoadedKernel : IAsyncLifetime
    {
        private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
        public NotebookKernel Kernel { get; } = new();

        public async Task InitializeAsync()
        {
            TinyCheckpoints.WriteGpt2(_folder.Path);
            var load = await Kernel.SubmitAsync($"#!actscale load --model \"{_folder.Path}\" --device cpu");
            Assert.True(load.Succeeded, load.ToString());
        }

        public Task DisposeAsync()
        {
            Kernel.Dispose();
            _folder.Dispose();
            return Task.CompletedTask;
        }
    }

    [Theory]
    [InlineData("--lr abc")]
    [InlineData("--steps -3")]
    [InlineData("--batch 0")]
    [InlineData("--method magic")]
    [InlineData("--sites attn_in")]
    [InlineData("--lambda-m -1")]
    [InlineData("--margin x")]
    [InlineData("--lr")]
    [InlineData("--seed 1.5")]
    public async Task A_bad_training_option_gives_the_magics_message(string options)
    {
        var magic = await kernel.Kernel.SubmitAsync("#!actscale train " + options);
        Assert.NotNull(magic.Failure);
        var tool = Assert.Throws<UsageException>(() => CliOptions.ParseTraining(CommandLine.Parse("actscale train", options.Split(' '), TrainCommand.Declared)));
        Assert.Equal(magic.Failure!.Message.Replace("#!actscale", "actscale"), tool.Message);
    }

    [Fact]
    public void Defaults_are_the_librarys_and_the_magics()
    {
        var line = CommandLine.Parse("actscale train", [], TrainCommand.Declared);
        Assert.Equal(new TrainingOptions().ToString(), CliOptions.ParseTraining(line).ToString());
        var data = CliOptions.ParseData(line);
        var magic = CommandCatalog.Find("data").Options.ToDictionary(o => o.Name, o => o.DefaultText);
        Assert.Equal((magic["--task"], magic["--train"], magic["--test"], magic["--seed"]),
            (data.Task, data.Train.ToString(), data.Test.ToString(), data.Seed.ToString()));
        Assert.Equal("activscalar", CliOptions.ParseName(line, CliOptions.ParseTraining(line)));
    }

    [Fact]
    public void An_unknown_option_names_the_known_ones()
    {
        var e = Assert.Throws<UsageException>(() => CommandLine.Parse("actscale train", ["--lambda-x", "3"], TrainCommand.Declared));
        Assert.StartsWith("actscale train has no option --lambda-x; its options are --model, ", e.Message);
        Assert.Contains("--data-seed", e.Message);
    }
}
