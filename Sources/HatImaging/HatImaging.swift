// HatImaging: PNG/JPEG codecs, preprocessing, colormaps, font. Sources land with the imaging issue.
