package tokenizer_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/simdformer/simdformer/tokenizer"
)

func ExampleLoadGPT2() {
	tok, err := tokenizer.LoadGPT2("testdata/gpt2") // encoder.json + vocab.bpe (or vocab.json + merges.txt)
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Hello world, it's 2024!")
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	fmt.Println(tok.EncodeSpecial("Hi<|endoftext|>"))
	// Output:
	// [15496 995 11 340 338 48609 0]
	// "Hello world, it's 2024!"
	// [17250 50256]
}

func ExamplePreTokenize() {
	fmt.Printf("%q\n", tokenizer.PreTokenize("I'm here:  42 apples\n"))
	// Output:
	// ["I" "'m" " here" ":" " " " 42" " apples" "\n"]
}

func ExampleTrainWordPiece() {
	text := []string{
		"The player played and the players play.",
		"Walking walked walker: the walkers walk.",
	}
	// At most 100 tokens; training stops earlier, at 50, when no pair occurs twice any more.
	vocab, err := tokenizer.TrainWordPiece(text, tokenizer.TrainOptions{VocabSize: 100})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tokenizer.NewWordPiece(vocab, tokenizer.WordPieceOptions{}) // uncased, like bert-base-uncased
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(vocab), vocab[:5])
	fmt.Println(tok.Tokenize("Players walked."))
	// Output:
	// 50 [[PAD] [UNK] [CLS] [SEP] [MASK]]
	// [play ##ers walk ##ed .]
}

func ExampleWordPiece_EncodeBatch() {
	vocab := strings.Fields("[PAD] [UNK] [CLS] [SEP] [MASK] the cat sat on mat ##s a dog . ?")
	tok, err := tokenizer.NewWordPiece(vocab, tokenizer.WordPieceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Tokenize("The cats sat on a MAT."))
	// Pairs cut to 10 positions (longest_first: the first pair keeps 3+4 tokens, the second
	// pair's longer text is cut to fit), padded to the longest.
	batch := tok.EncodeBatch(
		[]string{"The cat sat.", "A dog?"},
		[]string{"On the mat.", "The cats sat on the mat."},
		tokenizer.BatchOptions{MaxLength: 10, Truncate: true, Padding: tokenizer.PadLongest},
	)
	for _, e := range batch {
		fmt.Println(e.IDs, e.TypeIDs, e.AttentionMask)
	}
	fmt.Println(tok.DecodeSkipSpecial(batch[1].IDs))
	// Output:
	// [the cat ##s sat on a mat .]
	// [2 5 6 7 3 8 5 9 13 3] [0 0 0 0 0 1 1 1 1 1] [1 1 1 1 1 1 1 1 1 1]
	// [2 11 12 14 3 5 6 10 7 3] [0 0 0 0 0 1 1 1 1 1] [1 1 1 1 1 1 1 1 1 1]
	// a dog? the cats sat
}
