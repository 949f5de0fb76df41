"""The report's words: the reader's language (gettext catalogues in locale/), the words for
the identifiers result files hold, the glossary, and how numbers read with their units."""
