"""Where records live: ChromaDB collections (:mod:`.chroma`, the only module that imports chromadb), the text
channel's word index beside them (:mod:`.word_index`), the record schema and ids (:mod:`.records`) and what a filter
means for a record (:mod:`.filters`)."""
