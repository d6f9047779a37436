"""The tutorial's modules (the tutorial "Dropout in Transformers"), kept with
their attribute names so that state_dict keys match what PyTorch gives for them.
Used by golden_transformer.py and torch_load_check.py.
"""

import torch
import torch.nn as nn


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, ff_dim, dropout=0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(
            nn.Linear(embed_dim, ff_dim),
            nn.ReLU(),
            nn.Dropout(dropout),  # Dropout in feedforward
            nn.Linear(ff_dim, embed_dim),
        )
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor):
        # Self-attention + dropout + residual
        attn_out, _ = self.attn(x, x, x)
        x = x + self.dropout1(attn_out)
        x = self.norm1(x)

        # Feedforward + dropout + residual
        ff_out = self.ff(x)
        x = x + self.dropout2(ff_out)
        x = self.norm2(x)

        return x


class SimpleTransformerClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_heads, ff_dim, num_classes, num_blocks=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.transformer_blocks = nn.Sequential(
            *[TransformerBlock(embed_dim, num_heads, ff_dim) for _ in range(num_blocks)]
        )
        self.classifier = nn.Linear(embed_dim, num_classes)

    def forward(self, x: torch.Tensor):
        x = self.embedding(x)  # (batch_size, seq_length, embed_dim)
        x = self.transformer_blocks(x)
        # Use the output of the first token for classification
        x = x[:, 0, :]
        return self.classifier(x)


class MaskedTransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, ff_dim, dropout=0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim,
                                          num_heads,
                                          dropout=dropout,
                                          batch_first=True)
        self.ff = nn.Sequential(
            nn.Linear(embed_dim, ff_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ff_dim, embed_dim),
        )
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor = None):
        # Masked self-attention
        attn_out, _ = self.attn(x, x, x, attn_mask=mask)
        x = x + self.dropout1(attn_out)  # dropout + residual
        x = self.norm1(x)

        # Feedforward
        ff_out = self.ff(x)
        x = x + self.dropout2(ff_out)  # dropout + residual
        x = self.norm2(x)

        return x


def causal_mask(n):
    """The tutorial's causal mask: 0 on and below the diagonal, -inf above."""
    return torch.triu(torch.ones(n, n) * float('-inf'), diagonal=1)
