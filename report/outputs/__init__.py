"""What leaves the renderer: files written all or nothing, the PDF, the Markdown made from
the HTML, the fonts embedded in both, and text from result files made safe to print."""
