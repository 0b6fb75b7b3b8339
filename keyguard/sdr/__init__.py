"""Live sample sources (RTL-SDR dongle, rtl_tcp client, file replay) and the rtl_tcp server.

Every source yields :class:`~keyguard.sdr.source.StreamBlock` objects (SampleBlocks with a UTC
time and a lost-samples count) and keeps :class:`~keyguard.sdr.source.SourceStats`.
:func:`~keyguard.sdr.open.open_source` builds the one a command line names.
"""
