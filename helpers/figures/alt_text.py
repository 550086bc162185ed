"""Text alternatives for the figures and animations of the series (WCAG 2.1, success criterion 1.1.1).

Each entry says what the figure shows and the point it makes, for a reader who cannot see it, so
that the notebook can be followed from the text alone. The notebooks pass them to
:func:`helpers.figures.accessible.show_figure` and :func:`helpers.figures.plotting.show_gif`,
which put them in the cell output as the ``alt`` of an HTML ``<img>``: JupyterLab, the course
website and GitHub all read it from there. An entry describes the committed, deterministic
figure; change it when the drawing changes what it shows.
"""

from __future__ import annotations

from .. import checks

ALT = {
    # --- 01 Soft split
    "mountains": (
        "The running picture, mountains at dusk: 60 rows by 100 columns of flat grey levels, drawn in "
        "purple shades from dark (0) to white (1) with a colour bar. A white full moon is cut off by the "
        "top edge, a little left of centre; a mid-purple sky with bands of checkerboard dithering fills "
        "the upper half; a pale mountain face rises in the lower left, darker ridges climb towards the "
        "right, and the ground along the bottom corners is black (0)."
    ),
    "softsplit": (
        "Animation of the soft split with k = 20, s = 10, p = 5, one frame per patch, 60 frames at half "
        "a second each. The picture is drawn with 5 pixels of black zero padding, 70 by 110, and a "
        "dashed line marks the edge of the real picture. A solid white 20 by 20 box moves left to right "
        "along each row of patches in steps of 10 pixels, then down to the next row, 6 rows of 10 "
        "patches; the boxes already visited stay as faded dotted outlines. Each box overlaps half of its "
        "neighbour, so every pixel away from the border is read by more than one patch."
    ),
    "token01": (
        "Three panels. Top left: the padded picture, 70 by 110, with a white box on the 20 by 20 window "
        "in its top-left corner. Top right: that window enlarged, patch 1; dashed orange lines mark its "
        "first 5 rows and first 5 columns as padding, black, with sky in the rest. Bottom: the same "
        "patch as token 1, a strip of 400 values, its 20 rows laid end to end. The strip starts with a "
        "long black run, the 5 padding rows and the left padding of row 6, about 105 values, and then "
        "every group of 20 begins with a short black run of 5: the padding is visible in the token."
    ),
    "tokens_matrix_padding": (
        "The token matrix: all 60 tokens of length 400 stacked as rows, 60 rows by 400 columns, in the "
        "picture's purple shades. Three boxed notes point at the padding. Top rows 1 to 10 start with a "
        "black block of 100 values, the 5 padding rows above the picture. Bottom rows 51 to 60 end with a "
        "black block of 100 values, the padding below. The rows of the left column of patches, tokens 1, "
        "11, 21 and so on, show a dotted black line: 5 padding zeros at the start of every group of 20. "
        "Inside every row the pattern repeats every 20 values, one patch row after another, and the moon "
        "shows as bright runs in the first two rows of patches."
    ),
    "tokens_matrix": (
        "Diagram of the token matrix drawn from the real tokens. Left: the padded picture with four "
        "20 by 20 patches outlined in colour and numbered 1, 2, 25 and 60; patches 1 and 2 overlap along "
        "the top edge, 25 is in the middle, 60 in the bottom-right corner. Right: the 60 by 400 token "
        "matrix as four coloured strips, tokens 1, 2, 25 and 60, with dots for the rows between, each "
        "strip showing that token's 400 real values. Token 1 and 2 begin with a black run of padding, "
        "token 25 has no padding, token 60 is mostly black. The point: each patch of the picture becomes "
        "one row of the matrix, its 20 rows of pixels laid end to end."
    ),
    # --- 02 Token Transformer
    "attention_map": (
        "Two panels. Left: the mountain picture with an orange box on query patch 183, rows 26 to 32 and "
        "columns 30 to 36, on the edge of the pale mountain face. Right: a 15 by 25 heat map of the "
        "attention weights of that query over all 375 tokens, with a blue square on the query's own "
        "position; the weights range from 0 to about 0.006 and each row of weights sums to 1. Whole rows "
        "of sky tokens share one colour and the brightest cells lie away from the query, on the ridges "
        "below it: with untrained weights, attention follows what a patch looks like, not where it is."
    ),
    "performer_vs_softmax": (
        "Four panels comparing exact softmax attention with the Performer's approximation for query 183. "
        "Top row: two 15 by 25 heat maps of the weights on one square-root colour scale. The exact map "
        "has a few bright cells scattered over the lower half; the Performer map with m = 32 random "
        "features has none of them and instead spreads faint weight over a blob of tokens. Bottom left: "
        "a log-log scatter of all 140,625 weights, Performer against exact; the cloud lies far from the "
        "diagonal of perfect agreement, with a horizontal streak near 0.02. Bottom right: the mean total "
        "variation error against the number of features m from 8 to 4,096. With q and k as the module "
        "makes them the error falls only from about 0.96 to 0.75; with q and k divided by the fourth "
        "root of chan it falls from about 0.24 to 0.05. The approximation is poor at T2T's default of "
        "32 features and improves slowly with m."
    ),
    # --- 03 Image reconstruction
    "channel_grid": (
        "A grid of 8 small heat maps, channels 0 to 7 of the reconstructed image, each 15 rows by 25 "
        "columns with its own colour bar: white is 0, purple positive, orange negative. Every channel "
        "shows horizontal bands in its top half, where the sky is, and a patchier pattern in the lower "
        "half, where the mountains are. The reconstructed image is the mountain at a quarter of the "
        "resolution, and each channel is a different description of it."
    ),
    "reconstruction_input": (
        "The input of the reconstruction as a heat map: one batch of tokens, 375 rows (the tokens) by 64 "
        "columns (the channel values), white for 0, purple positive, orange negative. A red-orange box "
        "outlines row 82, token 82, which lands at row 3, column 7 of the grid. Four columns are "
        "outlined in colour: blue channel 3, bluish green channel 22, black channel 41 and reddish "
        "purple channel 60, as the legend below the matrix says. The upper rows, from the sky, show "
        "long vertical bands of similar values; the lower rows are more varied."
    ),
    "reconstruction_output": (
        "The output of the reconstruction: four of the 64 channels, each a 15 by 25 image on the same "
        "colour scale as the token matrix, framed in the colour of its column: channel 3 in blue, 22 "
        "in bluish green, 41 in black and 60 in reddish purple. In each image a small red-orange square "
        "marks row 3, column 7, where token 82 lands. Each column of the matrix has become one whole "
        "image, and each row of the matrix one pixel position in all 64 images."
    ),
    "reconstruction": (
        "Animation of the reconstruction, 19 frames at half a second each. Left: the 375 by 64 token "
        "matrix, with the tokens being moved boxed in red-orange: tokens 0, 1 and 2 one frame each, then "
        "the rest of grid row 0, then one grid row of 25 tokens per frame, for example tokens 150 to 174 "
        "going to row 6, columns 0 to 24; tokens already moved turn grey. Right: channels 3 and 22 of "
        "the 15 by 25 image, which start grey (not placed yet) and fill in as an arrow carries the boxed "
        "tokens across. In the last frame the matrix is all grey and both channels are complete: the "
        "tokens are read in order and written into the grid row by row."
    ),
    "coverage_k7": (
        "Coverage map of the soft split with k = 7, s = 4, p = 2 on the 60 by 100 picture: each pixel "
        "coloured by how many 7 by 7 patches contain it, 1 (dark blue), 2 (grey) or 4 (yellow). Most of "
        "the picture is yellow, crossed by a regular grid of thin grey lines, every fourth row and "
        "column, where a pixel lies in only one window along that axis, with dark blue where two lines "
        "cross and in the corners. nn.Fold would add up these overlaps, counting pixels 1, 2 or 4 times."
    ),
    # --- 04 The full T2T module and T2T-ViT
    "t2t_module_diagram": (
        "Flow diagram of the Tokens-to-Token module on the mountain picture, batch 1, with the tensor "
        "shape on every arrow. The input image, shape (1, 1, 60, 100), enters the module and goes "
        "through, top to bottom: soft split 0 (k=7, s=4, p=2) to (1, 375, 49); token transformer 1, "
        "token length 49 to 64, to (1, 375, 64); reconstruct 2-D image, transpose and reshape, to "
        "(1, 64, 15, 25); soft split 1 (k=3, s=2, p=1) to (1, 104, 576); token transformer 2, length "
        "576 to 64, to (1, 104, 64); reconstruct to (1, 64, 8, 13); soft split 2 (k=3, s=2, p=1) to "
        "(1, 28, 576); and a linear projection, 576 to 768, to (1, 28, 768): 28 tokens, each of length "
        "768. A side panel opens up a token transformer: norm, attention that changes the token length "
        "from 49 to 64 with V added back as its residual, then norm, a neural net (Linear, GELU, Linear) "
        "and a skip connection around it."
    ),
    "pipeline_contact_sheet": (
        "Four frames of the pipeline animation, one under the other, each with a row of nine step labels on "
        "top, the current step highlighted. Image: the 60 by 100 mountain picture, shape (1, 1, 60, "
        "100). Reshape 1: eight of the 64 channels of the 15 by 25 reconstructed image, shape (1, 64, "
        "15, 25). Reshape 2: eight channels of the 8 by 13 image, shape (1, 64, 8, 13). Project: the "
        "final tokens as a 28 by 768 heat map, shape (1, 28, 768), ready for the ViT backbone. The "
        "picture shrinks at every step while the number of channels and the token length grow."
    ),
    "t2t_pipeline": (
        "Animation of the T2T module on the mountain picture, 9 frames at one second each, one per "
        "step, named in a row of labels at the top: image, split 0, transformer 1, reshape 1, split 1, "
        "transformer 2, reshape 2, split 2, project. Each frame shows that step's tensor: the picture, "
        "shape (1, 1, 60, 100); token matrices of 375 tokens of length 49, then 375 of length 64; eight "
        "channels of the 15 by 25 image; 104 tokens of length 576, then of length 64; eight channels of "
        "the 8 by 13 image; 28 tokens of length 576; and finally 28 tokens of length 768. The grid "
        "shrinks step by step while the tokens get longer."
    ),
    "sinusoid": (
        "Two heat maps of the fixed sinusoidal position table, 176 rows (token positions, prediction "
        "token included) by 768 columns, split into its 384 even columns (sine) and 384 odd columns "
        "(cosine), on a scale from -1 (orange) to 1 (purple). Near the left edge the values swing "
        "quickly from row to row, in fine curved stripes; the stripes widen to the right, and beyond "
        "pair index of about 200 the values hardly change down the rows: the sine side stays near 0, the "
        "cosine side near 1. Low pairs tell neighbouring positions apart, high pairs change slowly, so "
        "every row gets a different code."
    ),
    "t2t_vit_diagram": (
        "Flow diagram of the whole T2T-ViT on the mountain picture, batch 1, with tensor shapes on the "
        "arrows. The input image (1, 1, 60, 100) goes through the Tokens-to-Token module (3 soft splits "
        "with k = 7, 3, 3, 2 token transformers and a linear projection) to 28 image tokens, (1, 28, "
        "768). A learned prediction token (1, 1, 768) is concatenated in front, giving (1, 29, 768), and "
        "the fixed sinusoidal position embedding, also (1, 29, 768), is added. Then come encoding blocks "
        "1 to 12 (depth 12), a final norm, keep the prediction token, row 0, giving (1, 768), and a "
        "linear head giving the prediction, (1, 1). A side panel opens up an encoding block: norm, "
        "attention with 1 head and a skip around it, then norm, a neural net (Linear, GELU, Linear) and "
        "a skip around it, keeping the shape (1, 29, 768)."
    ),
    # --- 05 Training
    "digits": (
        "Six handwritten digits from scikit-learn, 0 to 5, in two rows. Top row: the original 8 by 8 "
        "pixel images, blocky but readable. Bottom row: the same digits upsampled to 32 by 32, smooth and "
        "blurred at the edges, the size the two models are trained on."
    ),
    "training_curves": (
        "Two line charts over 6 epochs, T2T-ViT in blue and ViT in orange, each line the mean of 3 "
        "seeds with a shaded band from the worst to the best seed. Left, training loss on a log scale: "
        "both start near 2.3; the T2T-ViT's falls sooner and further, to about 0.55, the ViT's to about "
        "0.93. Right, test accuracy in percent, with a dashed line at 10 % for always guessing the most "
        "common class: the T2T-ViT's mean rises to about 86 % and the ViT's to about 77 %, the T2T-ViT "
        "ahead after every epoch. The bands are wide and overlap in the last epochs."
    ),
    "confusion_matrix": (
        "Two confusion matrices, T2T-ViT left and ViT right, each summed over 3 seeds: rows are the true "
        "digit 0 to 9, columns the predicted digit, each cell printed with its count and shaded darker "
        "for more test images. Both diagonals are dark, most answers are right. The T2T-ViT's "
        "off-diagonal cells are few and light, its largest 25 eights taken for ones and 17 ones for "
        "eights; the ViT's are more and darker, with 42 fives taken for nines and only 54 of its eights "
        "right. The ViT makes more errors overall, and eight is the hardest digit for both."
    ),
    "trained_attention": (
        "Two rows of five panels, T2T-ViT on top and ViT below. The first panel of each row shows the "
        "same test digit, a 2, 32 by 32 pixels. The other four show, for encoding blocks 1 to 4, how "
        "much the prediction token attends to each of the 16 image tokens, as a 4 by 4 grid of squares "
        "shaded from white (0) to black (0.5), with the outline of the digit drawn in green on top. "
        "Most squares are pale; in some blocks one square is dark, in the T2T-ViT's block 2 a square at "
        "the right edge beside the stroke, in the ViT's block 3 a square at the left edge, off the "
        "stroke. The favoured tokens are not always on the digit, and the two models favour different "
        "ones."
    ),
    # --- Solutions
    "solution_own_picture": (
        "The token matrix of the stand-in photo, a bright disc on a dark, smoothly lit background: 60 "
        "tokens of length 400 as rows. Most of the matrix is dark and flat, brightening slowly from top "
        "to bottom; the disc shows as white zigzag stripes in the rows of tokens 5 to 57 that repeat "
        "every 20 values, one per pixel row of a patch; the bottom-right corner is black padding."
    ),
    "solution_moon_query": (
        "Two panels. Left: the mountain picture with an orange box on query patch 36, rows 2 to 8 and "
        "columns 42 to 48, on the moon. Right: a 15 by 25 heat map of that query's attention weights "
        "over the 375 tokens, up to about 0.005, with a blue square on the query's own position. Rows "
        "of sky tokens share one colour and the brightest cells lie on the dark ridges in the lower "
        "half, not on the moon: an untrained block's query favours what its random weights favour, not "
        "brightness."
    ),
}


def alt_text(name: str) -> str:
    """The text alternative called ``name``; a ``ValueError`` lists the names there are."""
    checks.string("name", name, "name='mountains'")
    if name not in ALT:
        raise ValueError(f"no alt text called {name!r}; the names are {sorted(ALT)}")
    return ALT[name]


__all__ = ["ALT", "alt_text"]
