using ActScale.Hooks;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>Runs the model and projects only each prompt's last real position to the vocabulary.</summary>
public static class LastToken
{
    /// <summary>
    /// Float32 logits [batch, vocab] at <paramref name="lastIndex"/> [batch] of right-padded <paramref name="ids"/> [batch, position].
    /// The causal mask keeps real tokens from seeing the padding, so no attention mask is needed.
    /// </summary>
    public static Tensor Logits(TransformerModel model, Tensor ids, Tensor lastIndex, HookSet? hooks = null)
    {
        using var scope = NewDisposeScope();
        return Project(model, Hidden(model, ids, lastIndex, hooks)).MoveToOuterDisposeScope();
    }

    /// <summary>The final hidden state [batch, width] at <paramref name="lastIndex"/>, for callers that project it in parts.</summary>
    public static Tensor Hidden(TransformerModel model, Tensor ids, Tensor lastIndex, HookSet? hooks = null)
    {
        using var scope = NewDisposeScope();
        var hidden = model.Hidden(ids, hooks);
        var index = lastIndex.view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);
        return hidden.gather(1, index).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Float32 logits [batch, vocab] of final hidden states [batch, width].</summary>
    public static Tensor Project(TransformerModel model, Tensor last) => model.Unembed(last).to_type(ScalarType.Float32);
}
