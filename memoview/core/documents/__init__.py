"""Source documents: loaders (txt, md, html, pdf, docx, epub), import into a case, normalization.

Importing this package is cheap: the format libraries (pypdf, trafilatura,
python-docx, ebooklib, charset-normalizer) are imported only when a file of
that format is read.
"""
